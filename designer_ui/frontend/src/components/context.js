import { createContext } from "react";

/** Things every node needs and that never change while the editor is open. */
export const EditorContext = createContext({ decorations: null, typesByName: {} });
