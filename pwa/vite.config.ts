import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";

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
  ],
});
