// Small inline SVG icons (decorative: aria-hidden; the control carries the label).
import type { JSX } from 'preact';

const P: Record<string, string> = {
  cards: 'M7 3h10a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm5 5.5c-1-1.6-4-1.2-4 1.2 0 2.2 4 4.8 4 4.8s4-2.6 4-4.8c0-2.4-3-2.8-4-1.2z',
  chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z',
  studio: 'M14.7 3.3a1 1 0 0 1 1.4 0l4.6 4.6a1 1 0 0 1 0 1.4L9 21H3v-6L14.7 3.3zM5 16v3h3l9.6-9.6-3-3L5 16z',
  settings: 'M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zm8.9 5.3-.1-2.6 2-1.6-2-3.5-2.4.9-2.2-1.3L15.8 3h-4l-.4 2.2-2.2 1.3-2.4-.9-2 3.5 2 1.6-.1 2.6-2 1.6 2 3.5 2.4-.9 2.2 1.3.4 2.2h4l.4-2.2 2.2-1.3 2.4.9 2-3.5-2-1.6z',
  back: 'M15.4 5.4 14 4l-8 8 8 8 1.4-1.4L8.8 12z',
  x: 'M18.3 5.7 16.9 4.3 12 9.2 7.1 4.3 5.7 5.7 10.6 10.6 5.7 15.5l1.4 1.4 4.9-4.9 4.9 4.9 1.4-1.4-4.9-4.9z',
  heart: 'M12 21s-7.5-4.6-9.6-9.1C.9 8.6 2.9 4.5 6.6 4.5c2.1 0 3.6 1.2 5.4 3.2 1.8-2 3.3-3.2 5.4-3.2 3.7 0 5.7 4.1 4.2 7.4C19.5 16.4 12 21 12 21z',
  star: 'M12 2.5l2.9 6.3 6.9.7-5.2 4.6 1.5 6.8L12 17.4l-6.1 3.5 1.5-6.8L2.2 9.5l6.9-.7z',
  undo: 'M12.5 8c-2.6 0-5 1-6.8 2.6L3 8v7h7l-2.8-2.8c1.4-1.2 3.2-2 5.3-2 3.5 0 6.5 2.3 7.6 5.5l2.3-.8C20.9 10.9 17 8 12.5 8z',
  send: 'M3 20.5 21 12 3 3.5 3 10l12 2-12 2z',
  stop: 'M7 7h10v10H7z',
  refresh: 'M17.7 6.3A8 8 0 1 0 20 12h-2a6 6 0 1 1-1.8-4.3L13 11h7V4z',
  more: 'M6 10a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm6 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm6 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4z',
  plus: 'M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z',
  upload: 'M12 3 6.5 8.5l1.4 1.4L11 6.8V16h2V6.8l3.1 3.1 1.4-1.4zM5 18h14v2H5z',
  download: 'M11 4h2v9.2l3.1-3.1 1.4 1.4L12 17l-5.5-5.5 1.4-1.4 3.1 3.1zM5 18h14v2H5z',
  filter: 'M3 5h18l-7 8v6l-4 2v-8z',
  chevl: 'M14.6 6.6 13.2 5.2 6.4 12l6.8 6.8 1.4-1.4L9.2 12z',
  chevr: 'M9.4 6.6l1.4-1.4 6.8 6.8-6.8 6.8-1.4-1.4 5.4-5.4z',
  play: 'M8 5v14l11-7z',
  edit: 'M3 17.2V21h3.8l11-11-3.8-3.8zM20.7 7a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.8 3.8z',
  trash: 'M6 7h12l-1 14H7zm3-4h6l1 2h4v2H4V5h4z',
};

export function Icon({ name, size = 22, ...rest }: { name: keyof typeof P | string; size?: number } & JSX.SVGAttributes<SVGSVGElement>) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="currentColor" {...rest}>
      <path d={P[name] || ''} />
    </svg>
  );
}
