// Adapts a node type's config JSON Schema (draft 2020-12) to what the form library renders
// well, and builds a matching uiSchema. The server stays the authority on validity. Fields
// and choices read as words (formLabels.js) where the schema gives no title of its own.
import { choiceLabels, labelOf, words } from "./formLabels.js";

const isAny = (s) => s && typeof s === "object" && (Object.keys(s).filter((k) => k !== "description").length === 0 || Array.isArray(s.type));

function optionTitle(option, i) {
  if (option.title) return option.title;
  if (option.required && option.required.length === 1) return words(option.required[0]);
  if (option.type === "string") return option.pattern && option.pattern.includes("\\d{4}") ? "date" : "text";
  if (option.type === "object") return "details";
  return `option ${i + 1}`;
}

/** `key`: the property's name in its object (none for the root and array items). */
function adapt(schema, ui, key, type) {
  if (!schema || typeof schema !== "object") return schema;
  const title = key ? { title: labelOf(key, schema, type) } : {};
  if (isAny(schema)) {
    ui["ui:field"] = "anyValue";
    // An empty schema renders nothing at all; a description is harmless to validation.
    return { description: "Text, or a number, true/false or JSON", ...schema, ...title };
  }
  const out = { ...schema, ...title };
  if (Array.isArray(out.enum) && key && !ui["ui:enumNames"]) {
    ui["ui:enumNames"] = choiceLabels(key, out.enum, type);
  }
  if (out.prefixItems) {
    const names = out.prefixItems.length === 2 ? ["from", "to"] : [];
    out.items = out.prefixItems.map((s, i) => ({ ...(names[i] ? { title: names[i] } : {}), ...adapt(s, {}, null, type) }));
    out.additionalItems = false;
    delete out.prefixItems;
  } else if (out.items && !Array.isArray(out.items)) {
    ui.items = ui.items || {};
    out.items = adapt(out.items, ui.items, null, type);
  }
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties).map(([name, s]) => {
        ui[name] = ui[name] || {};
        return [name, adapt(s, ui[name], name, type)];
      }),
    );
  }
  if (out.additionalProperties && typeof out.additionalProperties === "object") {
    out.additionalProperties = adapt(out.additionalProperties, {}, null, type);
  }
  for (const key of ["oneOf", "anyOf"]) {
    if (Array.isArray(out[key])) {
      const onlyRequired = out[key].every((s) => Object.keys(s).every((k) => k === "required"));
      if (onlyRequired && out.properties) {
        // e.g. say: "text or audio_url"; the server reports it, a selector would confuse.
        delete out[key];
      } else {
        out[key] = out[key].map((s, i) => ({ title: optionTitle(s, i), ...adapt(s, {}, null, type) }));
      }
    }
  }
  if (typeof out.description === "string" && out.description.includes("{{")) {
    ui["ui:help"] = out.description;
    delete out.description;
  }
  if (out.maxLength && out.maxLength >= 1000 && out.type === "string") ui["ui:widget"] = "textarea";
  return out;
}

const cache = new Map();

/** {schema, uiSchema} for a node type's config. */
export function formSchemas(typeInfo) {
  if (!typeInfo) return { schema: { type: "object" }, uiSchema: {} };
  if (!cache.has(typeInfo.type)) {
    const uiSchema = {};
    const schema = adapt(typeInfo.config_schema || { type: "object" }, uiSchema, null, typeInfo.type);
    delete schema.$schema;
    uiSchema["ui:submitButtonOptions"] = { norender: true };
    cache.set(typeInfo.type, { schema, uiSchema });
  }
  return cache.get(typeInfo.type);
}

/** "options[0].key" -> ["options", "0", "key"] */
function splitPath(path) {
  return path.replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean);
}

/** Server problems about one node's config, as the form's error schema. */
export function problemsToErrorSchema(problems, nodeId) {
  const errors = {};
  for (const p of problems) {
    if (p.node !== nodeId || !p.path) continue;
    const at = p.path.indexOf(".config");
    if (at < 0) continue;
    let cursor = errors;
    for (const part of splitPath(p.path.slice(at + ".config".length))) {
      cursor[part] = cursor[part] || {};
      cursor = cursor[part];
    }
    cursor.__errors = [...(cursor.__errors || []), p.message];
  }
  return errors;
}
