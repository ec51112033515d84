import { useAppState } from "./app/hooks";
import { usePath } from "./app/router";
import { Account } from "./views/Account";
import { Enroll } from "./views/Enroll";
import { Home } from "./views/Home";
import { Pass } from "./views/Pass";
import { StatusBar } from "./views/StatusBar";
import { Outlet } from "./views/Outlet";
import { Records } from "./views/Records";
import { SignIn } from "./views/SignIn";
import { Verify } from "./views/Verify";

const VIEWS: Record<string, () => preact.JSX.Element> = { "/": Home, "/verify": Verify, "/pass": Pass, "/enroll": Enroll, "/outlet": Outlet, "/records": Records,
  "/signin": SignIn, "/account": Account };

export function App() {
  useAppState();
  const path = usePath();
  const View = VIEWS[path.replace(/\/+$/, "") || "/"] ?? Home;
  return (
    <>
      <StatusBar />
      <View />
    </>
  );
}
