import { createRoot } from "react-dom/client";
import { ReactFlowProvider } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./editor.css";
import Editor from "./Editor.jsx";

// The Django template puts the page's settings in <script id="designer-config">.
const config = JSON.parse(document.getElementById("designer-config").textContent);

createRoot(document.getElementById("designer-root")).render(
  <ReactFlowProvider>
    <Editor slug={config.slug} listUrl={config.list_url} analyticsUrl={config.analytics_url} fallbackPerms={config.perms} />
  </ReactFlowProvider>,
);
