import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useAppState } from "./app/hooks";
import { usePath } from "./app/router";
import { StatusBar } from "./views/StatusBar";

// Each screen is its own chunk, loaded when its route is first shown: the first screen parses only its own code
// (the household's verdict, the camera, the staff forms stay unparsed until asked for). The service worker still
// precaches every chunk, so after the first visit every screen opens offline.
type View = ComponentType;
const LOADERS: Record<string, () => Promise<View>> = {
  "/": () => import("./views/Home").then((m) => m.Home),
  "/verify": () => import("./views/Verify").then((m) => m.Verify),
  "/pass": () => import("./views/Pass").then((m) => m.Pass),
  "/enroll": () => import("./views/Enroll").then((m) => m.Enroll),
  "/outlet": () => import("./views/Outlet").then((m) => m.Outlet),
  "/records": () => import("./views/Records").then((m) => m.Records),
  "/signin": () => import("./views/SignIn").then((m) => m.SignIn),
  "/account": () => import("./views/Account").then((m) => m.Account),
};
const loaded = new Map<string, View>();
const pending = new Map<string, Promise<View>>();

function routeOf(path: string): string {
  const route = path.replace(/\/+$/, "") || "/";
  return route in LOADERS ? route : "/";
}

/** Start loading a screen's chunk (once); resolves to its component. */
export function loadView(route: string): Promise<View> {
  let p = pending.get(route);
  if (!p) {
    p = LOADERS[route]().then((view) => {
      loaded.set(route, view);
      return view;
    });
    // A failed load (offline before the service worker had the chunk) may be retried on the next visit.
    p.catch((e) => {
      console.warn(`screen ${route} failed to load`, String(e));
      pending.delete(route);
    });
    pending.set(route, p);
  }
  return p;
}

// The first screen's chunk starts loading as soon as this module runs, before the first render.
void loadView(routeOf(location.pathname)).catch(() => undefined);

export function App() {
  useAppState();
  const route = routeOf(usePath());
  const [, setReady] = useState(0);
  const View = loaded.get(route);
  useEffect(() => {
    if (View) return;
    let live = true;
    loadView(route).then(
      () => live && setReady((n) => n + 1),
      () => live && setReady((n) => n + 1),
    );
    return () => {
      live = false;
    };
  }, [route, View]);
  return (
    <>
      <StatusBar />
      {View ? <View /> : <main aria-busy="true" />}
    </>
  );
}
