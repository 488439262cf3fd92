import { defineConfig } from 'vite';
import { pixiWithoutEval } from './scripts/pixi-without-eval.mjs';

// The build goes to web/dist, which `caliper serve` serves (setting web.root). Asset names carry
// a content hash, so the server caches /assets/ for a year.
export default defineConfig({
  plugins: [pixiWithoutEval()],
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 2048,
  },
});
