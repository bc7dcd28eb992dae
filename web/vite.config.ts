import { defineConfig } from 'vitest/config';
import preact from '@preact/preset-vite';

// The app is served at "/" by tokki; `npm run dev` proxies /api to a local server
// (the mock in e2e/mock-server.mjs by default: `npm run mock`).
export default defineConfig({
  plugins: [preact()],
  build: { outDir: 'dist', target: 'es2020', sourcemap: false },
  server: { proxy: { '/api': { target: process.env.TOKKI_URL || 'http://127.0.0.1:8090' } } },
  test: { environment: 'jsdom', include: ['src/**/*.test.ts', 'src/**/*.test.tsx'] },
});
