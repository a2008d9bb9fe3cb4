/** `iommu iommufd-script`'s engine side: one whole script text as a fresh process. */
import { splitLines } from "../script/lines.js";
import { IommufdScript, type IommufdScriptOptions } from "./interpreter.js";

/** Run one whole script text as a fresh process; returns stdout. */
export function runIommufdScript(text: string, opts: IommufdScriptOptions = {}): string {
  const script = new IommufdScript(opts);
  const out: string[] = [];
  for (const line of splitLines(text)) for (const l of script.line(line)) out.push(`${l}\n`);
  return out.join("");
}
