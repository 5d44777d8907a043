import { useEffect, useState } from "react";

// A value of any JSON type (a branch rule's value, an HTTP body): numbers, true/false,
// objects and lists are read as JSON, anything else is text.
function show(value) {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function parse(text) {
  const t = text.trim();
  if (t === "") return undefined;
  if (/^(-?\d+(\.\d+)?|true|false|null)$/.test(t) || /^[[{]/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

export default function AnyValueField({ formData, onChange, idSchema, fieldPathId, name, disabled, readonly, schema, path }) {
  const [text, setText] = useState(show(formData));
  useEffect(() => {
    setText((current) => (parse(current) === formData ? current : show(formData)));
  }, [formData]);
  const id = (fieldPathId && fieldPathId.$id) || (idSchema && idSchema.$id) || name;
  return (
    <div className="form-group field field-any">
      <label className="control-label" htmlFor={id}>{name}</label>
      <input
        id={id}
        className="form-control"
        value={text}
        disabled={disabled || readonly}
        title="Text, or a number / true / false / JSON"
        onChange={(e) => {
          setText(e.target.value);
          const value = parse(e.target.value);
          if (fieldPathId) onChange(value, fieldPathId.path);
          else onChange(value);
        }}
      />
      {schema && schema.description && <p className="help-block">{schema.description}</p>}
    </div>
  );
}
