import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The UI talks to `sunward serve` (or tests/mock-server.mjs) over /api/v1.
// In `npm run dev`, /api is proxied to SUNWARD_API (default: the mock server's port).
const api = process.env.SUNWARD_API ?? 'http://127.0.0.1:7878';

export default defineConfig({
  plugins: [svelte()],
  // Relative asset paths: the same build is loaded by Tauri (tauri://localhost) and over HTTP.
  base: './',
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    proxy: { '/api': { target: api, changeOrigin: true } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
