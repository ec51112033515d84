import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { brotliCompress, constants, gzip } from "node:zlib";
import { promisify } from "node:util";
import { defineConfig, type Plugin } from "vite";
import { VitePWA } from "vite-plugin-pwa";

// Precompressed assets (issue 12): after the whole build is written (the service worker and the web manifest
// included, which vite-plugin-pwa writes in its own closeBundle), every compressible file gets a .br and a .gz
// beside it, made once at the highest levels; server/web.py picks the one the browser accepts. Node's own zlib:
// compression plugins from npm compress Rollup's bundle and public/, not the service worker built afterwards.
const COMPRESSIBLE = /\.(js|mjs|css|html|wasm|svg|webmanifest|json)$/;
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else yield full;
  }
}

function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "doorpass-precompress",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle: {
      order: "post",
      sequential: true,
      async handler() {
        const jobs: Promise<void>[] = [];
        for await (const path of files(outDir)) {
          if (!COMPRESSIBLE.test(path) || (await stat(path)).size < 256) continue;
          jobs.push(
            (async () => {
              const raw = await readFile(path);
              const [br, gzipped] = await Promise.all([
                brotli(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
                gz(raw, { level: 9 }),
              ]);
              // A compressed copy no smaller than the file is not written: the server then sends the file itself.
              if (br.length < raw.length) await writeFile(path + ".br", br);
              if (gzipped.length < raw.length) await writeFile(path + ".gz", gzipped);
            })(),
          );
        }
        await Promise.all(jobs);
      },
    },
  };
}

// The root key verifiers pin is baked into the build (make run / the e2e tests pass it in).
const ROOT_PUB = process.env.DOORPASS_ROOT_PUB ?? "";

export default defineConfig({
  define: { __DP1_ROOT_PUB__: JSON.stringify(ROOT_PUB) },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { target: "es2022", sourcemap: false, assetsInlineLimit: 0 },
  plugins: [
    VitePWA({
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      registerType: "prompt",
      injectRegister: false,
      injectManifest: {
        globPatterns: ["**/*.{js,css,html,wasm,png,svg,webmanifest}"],
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
      },
      manifest: {
        name: "安心上门证 DoorPass",
        short_name: "安心上门证",
        description: "家政上门服务证：出示与核验 — door-service passes for domestic workers",
        lang: "zh-CN",
        start_url: "/",
        scope: "/",
        display: "standalone",
        background_color: "#ffffff",
        theme_color: "#0b6e4f",
        icons: [
          { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "/icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
    }),
    precompress(),
  ],
});
