export {
  errLine,
  type ScriptDomainFactory,
  type ScriptDomainSpec,
  VfioScript,
  type VfioScriptOptions,
} from "./interpreter.js";
