import { render } from 'preact';
import { App } from './app';
import { applyTheme, initialTheme } from './state';
import './styles.css';

applyTheme(initialTheme()); // before the first paint: no flash of the wrong theme
render(<App />, document.getElementById('app')!);
