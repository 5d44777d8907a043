// The flow list page: create a flow and import JSON files through the API; the rest is
// server-rendered.
import { api } from "../api.js";
import { showReport } from "./report.js";

function showErrors(box, error) {
  box.hidden = false;
  box.textContent = "";
  const p = document.createElement("p");
  p.textContent = error.message;
  box.appendChild(p);
  const items = error.body.errors || error.body.problems || [];
  if (items.length) {
    const ul = document.createElement("ul");
    for (const item of items) {
      const li = document.createElement("li");
      li.textContent = [item.file, item.path, item.node, item.message].filter(Boolean).join(" \u2014 ");
      ul.appendChild(li);
    }
    box.appendChild(ul);
  }
}

const create = document.getElementById("create-flow");
if (create) {
  create.addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData(create);
    const box = document.getElementById("create-errors");
    try {
      const flow = await api.createFlow(form.get("slug").trim(), form.get("name").trim());
      window.location.href = create.dataset.editorUrl.replace("__slug__", flow.slug);
    } catch (error) {
      showErrors(box, error);
    }
  });
}

const importForm = document.getElementById("import-flows");
if (importForm) {
  importForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const box = document.getElementById("import-errors");
    const data = new FormData();
    for (const file of importForm.querySelector("input[type=file]").files) data.append("files", file);
    if (importForm.querySelector("[name=publish]").checked) data.append("publish", "true");
    if (importForm.querySelector("[name=allow_placeholders]")?.checked) data.append("allow_placeholders", "true");
    try {
      const result = await api.importFiles(data);
      // the page reloads to list the new flows; the report is shown once it has
      sessionStorage.setItem("callflow.imported", JSON.stringify(result));
      window.location.reload();
    } catch (error) {
      showErrors(box, error);
    }
  });
}

const imported = sessionStorage.getItem("callflow.imported");
if (imported) {
  sessionStorage.removeItem("callflow.imported");
  const box = document.getElementById("import-result");
  if (box) {
    let result = null;
    try {
      result = JSON.parse(imported);
    } catch {
      result = null; // written by an older page: nothing to show
    }
    if (result) showReport(box, result, box.dataset.editorUrl);
  }
}
