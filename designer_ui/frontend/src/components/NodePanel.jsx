import { useEffect, useMemo, useState } from "react";
import Form from "@rjsf/core";
import validator from "@rjsf/validator-ajv8";
import { formSchemas, problemsToErrorSchema } from "../schemaForm.js";
import { NODE_ID } from "../graph.js";
import AnyValueField from "./AnyValueField.jsx";

const FIELDS = { anyValue: AnyValueField };
const DEFAULTS = { emptyObjectFields: "skipDefaults", arrayMinItems: { populate: "never" } };

function IdField({ node, taken, readOnly, onRename }) {
  const [value, setValue] = useState(node.id);
  useEffect(() => setValue(node.id), [node.id]);
  let error = null;
  if (value !== node.id) {
    if (!NODE_ID.test(value)) error = "Lower-case letters, digits and _; starts with a letter.";
    else if (taken.has(value)) error = `Another node is already called ${value}.`;
  }
  const apply = () => {
    if (!error && value !== node.id) onRename(node.id, value);
  };
  return (
    <div className="cf-field">
      <label htmlFor="cf-node-id">Id</label>
      <input
        id="cf-node-id"
        value={value}
        readOnly={readOnly}
        onChange={(e) => setValue(e.target.value)}
        onBlur={apply}
        onKeyDown={(e) => e.key === "Enter" && apply()}
        aria-invalid={!!error}
      />
      {error && <p className="cf-error">{error}</p>}
    </div>
  );
}

/** The selected node: id, label and its config as a form generated from the type's schema. */
export default function NodePanel({ node, typeInfo, problems, taken, readOnly, onRename, onLabel, onConfig }) {
  const { schema, uiSchema } = formSchemas(typeInfo);
  const extraErrors = useMemo(() => problemsToErrorSchema(problems, node.id), [problems, node.id]);
  const nodeProblems = problems.filter((p) => p.node === node.id);
  return (
    <div className="cf-node-panel" data-panel-node={node.id}>
      <h3>
        {typeInfo ? typeInfo.title : node.data.type} <small>{node.data.type}</small>
      </h3>
      {typeInfo && <p className="cf-help">{typeInfo.description}</p>}
      {nodeProblems.length > 0 && (
        <ul className="cf-problem-list cf-inline-problems">
          {nodeProblems.map((p, i) => (
            <li key={i} className={`cf-problem cf-problem-${p.severity}`}>{p.message}</li>
          ))}
        </ul>
      )}
      <IdField node={node} taken={taken} readOnly={readOnly} onRename={onRename} />
      <div className="cf-field">
        <label htmlFor="cf-node-label">Label</label>
        <input
          id="cf-node-label"
          value={node.data.label}
          readOnly={readOnly}
          placeholder={node.id}
          onChange={(e) => onLabel(node.id, e.target.value)}
        />
      </div>
      <div className="cf-config-form">
        <Form
          key={`${node.id}:${node.data.type}`}
          schema={schema}
          uiSchema={uiSchema}
          formData={node.data.config}
          validator={validator}
          fields={FIELDS}
          liveValidate="onChange"
          showErrorList={false}
          noHtml5Validate
          extraErrors={extraErrors}
          experimental_defaultFormStateBehavior={DEFAULTS}
          disabled={readOnly}
          onChange={({ formData }) => onConfig(node.id, formData || {})}
        />
      </div>
    </div>
  );
}
