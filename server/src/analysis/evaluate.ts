import { child, namedChildren, textOf, type ParsedText, type PyNode } from '../parse/tree';
import { argument as argumentAt } from './library/context';
import { origin, withLossOf } from './library/common';
import {
  applyLayer,
  activationOfFunction,
  callLayerMethod,
  callLibrary,
  callTensorMethod,
  CONVENTIONAL_ALIASES,
  disablesGradient,
  handWrittenActivation,
  isKerasModelClass,
  builtinCall,
  iterationElement,
  KERAS_MODEL_METHODS,
  methodRunsWithoutGradient,
  MODULE_BASE_CLASSES,
  MODULE_SELF_METHODS,
  modelledNamesUnder,
  moduleDictLookup,
  namedLayerPairsOf,
  orderedLayersOf,
  setModuleDictEntry,
  tensorAttribute,
  type LibraryContext,
} from './library/index';
import { expectationOf, LOSS_CLASSES, LOSS_FUNCTIONS, normalizePath } from './loss-catalog';
import { MAX_IMPORT_DEPTH, MAX_MODULES_PER_ANALYSIS, type ProjectModules } from './project-modules';
import {
  factsOf,
  mergeValues,
  tensor,
  UNKNOWN,
  type Activation,
  type ArgumentFacts,
  type CallArguments,
  type ClassValue,
  type ExpressionEvent,
  type FunctionValue,
  type InstanceValue,
  type IterableValue,
  type LayerValue,
  type LossCallFacts,
  type LossSpec,
  type LossValue,
  type ModuleValue,
  type ProjectModule,
  type Scope,
  type TensorFacts,
  type Value,
} from './values';

export type { ExpressionEvent } from './values';

/**
 * The interpreter: one flow-sensitive abstract interpretation of the whole program (all units in order), statement by
 * statement. It binds names (imports with every alias), tracks what every value is (`values.ts`), follows calls into
 * functions, methods and `nn.Module.forward`, and records every loss application and suspicious expression as facts
 * for the rules. What library functions, layers and tensor methods do is not here: the interpreter asks the library
 * models (`library/`) through the `LibraryContext` it implements. Rules never walk the tree themselves.
 */

export interface ProgramFacts {
  units: ParsedText[];
  lossCalls: LossCallFacts[];
  /** Every loss object constructed (`nn.CrossEntropyLoss(weight=w)`), called or not: its options are checked at construction. */
  lossObjects: LossValue[];
  events: ExpressionEvent[];
  truncated: boolean;
  /** Names bound at module level at the end of the program (for fixes that need a spelling, e.g. `F`). */
  moduleScope: Map<string, Value>;
  /** The project modules whose top level this analysis evaluated (files), and why some imports were not followed. */
  modules: string[];
  importLimits: string[];
  /**
   * For a loss call (its input report node) or an expression event inside an imported module that the program's own
   * code reached: the call in the program that entered the module (`compute_loss(probs, y)` in train.py).
   */
  programEntries: Map<PyNode, PyNode>;
}

type Env = Scope;

function lookupIn(env: Env | null, name: string): Value | undefined {
  for (let layer = env; layer; layer = layer.parent) {
    const value = layer.vars.get(name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Every binding visible in a scope (inner layers win). */
function bindingsOf(env: Env | null): Map<string, Value> {
  const layers: Map<string, Value>[] = [];
  for (let layer = env; layer; layer = layer.parent) layers.push(layer.vars);
  const all = new Map<string, Value>();
  for (let i = layers.length - 1; i >= 0; i--) for (const [name, value] of layers[i]) all.set(name, value);
  return all;
}

interface Frame {
  fn: FunctionValue | null;
  returns: Value[];
  /** Environments at `break`/`continue`, merged after the loop. */
  loopExits: Env[][];
}

class BudgetExceeded extends Error {}

const MAX_CALL_DEPTH = 8;
/** Loops nested deeper than this are evaluated once, so that re-evaluation cannot grow exponentially with nesting. */
const MAX_RERUN_LOOP_DEPTH = 2;
/** Deeper expressions (10,000 nested parentheses) evaluate to unknown instead of overflowing the stack. */
const MAX_EXPRESSION_DEPTH = 150;
const MAX_EVALUATIONS_PER_FUNCTION = 12;
/** Chains of re-exports (`from .model import Net` in `__init__.py`, read through another package) followed at most this far. */
const MAX_REEXPORT_HOPS = 16;

/** The content of a plain string literal (strings are leaves of the copied tree); undefined for f-strings with fields. */
function stringLiteral(node: PyNode | undefined): string | undefined {
  if (!node || node.type !== 'string') return undefined;
  const match = /^([rRbBuUfF]{0,2})('''|"""|'|")([\s\S]*)\2$/.exec(textOf(node));
  if (!match) return undefined;
  if (/[fF]/.test(match[1]) && match[3].includes('{')) return undefined;
  return match[3];
}

export class Evaluator implements LibraryContext {
  private readonly lossCalls: LossCallFacts[] = [];
  private readonly lossObjects: LossValue[] = [];
  private readonly events: ExpressionEvent[] = [];
  private readonly eventNodes = new Set<PyNode>();
  private readonly functions: FunctionValue[] = [];
  private readonly classes: ClassValue[] = [];
  private readonly prototypes = new Map<ClassValue, InstanceValue>();
  private readonly kerasModels = new Map<InstanceValue, LayerValue>();
  private readonly frames: Frame[] = [];
  private moduleEnv: Env = { vars: new Map(), parent: null, closure: null };
  private steps = 0;
  /** Nesting of loops being evaluated (loops deeper than MAX_RERUN_LOOP_DEPTH are evaluated once). */
  private loopDepth = 0;
  /** Nesting of expressions (and assignment patterns, ERROR nodes) under evaluation, bounded by MAX_EXPRESSION_DEPTH. */
  private expressionDepth = 0;
  /** Nesting of `with torch.no_grad():` blocks and `@torch.no_grad()` functions under evaluation. */
  private gradientOffDepth = 0;
  private truncated = false;
  /** An unexpected exception that stopped the evaluation (kept for debugging; the result is flagged truncated). */
  internalError: unknown;
  /** The module scopes of imported project modules: a name their functions do not find there is not the program's. */
  private readonly importedGlobals = new WeakSet<Env>();
  /** Nesting of imported module top levels under evaluation. */
  private importDepth = 0;
  /** The call in the analysed program whose callee (an imported module's function or class) is being evaluated. */
  private programEntry: PyNode | undefined;
  private readonly programEntries = new Map<PyNode, PyNode>();

  constructor(
    private readonly units: ParsedText[],
    private readonly deadline: number,
    /** The project's other files, when the program is a file of a project; imports of them are followed. */
    private readonly project?: ProjectModules,
  ) {}

  run(): ProgramFacts {
    try {
      for (const unit of this.units) {
        if (unit.skipped) continue;
        const env = this.execBlock(unit.root, this.moduleEnv);
        if (env) this.moduleEnv = env;
      }
      this.evaluateUncalled();
    } catch (error) {
      // Past the budget, or an engine bug on some unforeseen input: either way, keep what was found and say the
      // analysis was cut short rather than fail the whole check.
      this.truncated = true;
      if (!(error instanceof BudgetExceeded)) this.internalError = error;
    }
    return {
      units: this.units,
      lossCalls: this.lossCalls,
      lossObjects: this.lossObjects,
      events: this.events,
      truncated: this.truncated,
      moduleScope: bindingsOf(this.moduleEnv),
      modules: this.project?.files() ?? [],
      importLimits: [...(this.project?.limits ?? [])],
      programEntries: this.programEntries,
    };
  }

  private tick(): void {
    // Checking the clock costs more than a statement; look every 256 steps.
    if ((++this.steps & 255) === 0 && Date.now() > this.deadline) throw new BudgetExceeded();
  }

  /** Functions and methods nobody called are evaluated once with unknown arguments, so their own bugs are found. */
  private evaluateUncalled(): void {
    for (let i = 0; i < this.functions.length; i++) {
      const fn = this.functions[i];
      // An imported module's own functions are checked by that module's analysis.
      if (fn.evaluations > 0 || this.project?.fileOfUnit.has(fn.node.unit)) continue;
      const self = fn.owner ? this.prototypeOf(fn.owner) : undefined;
      const result = this.invoke(fn, self, { positional: [], keywords: new Map() });
      // Lightning's training_step returns the loss that the trainer back-propagates.
      if (fn.name === 'training_step') this.markBackpropagated(result);
    }
  }

  private prototypeOf(cls: ClassValue): InstanceValue {
    let instance = this.prototypes.get(cls);
    if (!instance) instance = this.instantiate(cls, { positional: [], keywords: new Map() });
    return instance;
  }

  // ---------------------------------------------------------------- statements

  private isModuleLevel(): boolean {
    return this.frames.length === 0;
  }

  private execBlock(block: PyNode, env: Env | null): Env | null {
    for (const statement of block.children) {
      if (!env) return null;
      if (!statement.named) continue;
      env = this.execStatement(statement, env);
      if (env && this.isModuleLevel()) this.moduleEnv = env;
    }
    return env;
  }

  private fork(env: Env): Env {
    return { vars: new Map(), parent: env, closure: env.closure };
  }

  /**
   * Joins the paths that reach the same point. `paths` are `base` itself or scopes forked from it (null: a path that
   * returned, raised or jumped). Only names written on some path can differ; their merged values are written into
   * `base`, which the caller continues with (the pre-branch state is not needed again).
   */
  private merge(base: Env, paths: (Env | null)[]): Env | null {
    const live = paths.filter((e): e is Env => e !== null);
    if (live.length === 0) return null;
    const baseAndAncestors = new Set<Env>();
    for (let layer: Env | null = base; layer; layer = layer.parent) baseAndAncestors.add(layer);
    const written = new Set<string>();
    for (const path of live) {
      for (let layer: Env | null = path; layer && !baseAndAncestors.has(layer); layer = layer.parent) for (const name of layer.vars.keys()) written.add(name);
    }
    for (const name of written) {
      // A name bound on only some paths: the other paths would raise NameError, so the binding that exists is what reaches a use.
      let value: Value | undefined;
      for (const path of live) {
        const v = lookupIn(path, name);
        if (v === undefined) continue;
        value = value === undefined ? v : mergeValues(value, v);
      }
      if (value !== undefined) base.vars.set(name, value);
    }
    return base;
  }

  private execStatement(node: PyNode, env: Env): Env | null {
    if (this.expressionDepth >= MAX_EXPRESSION_DEPTH) return env;
    this.expressionDepth++;
    const next = this.execStatementKind(node, env);
    this.expressionDepth--;
    return next;
  }

  private execStatementKind(node: PyNode, env: Env): Env | null {
    this.tick();
    switch (node.type) {
      case 'expression_statement': {
        for (const expression of namedChildren(node)) this.evalTopExpression(expression, env);
        return env;
      }
      case 'import_statement':
      case 'import_from_statement':
      case 'future_import_statement':
        this.execImport(node, env);
        return env;
      case 'if_statement':
        return this.execIf(node, env);
      case 'for_statement':
      case 'while_statement':
        return this.execLoop(node, env);
      case 'try_statement':
        return this.execTry(node, env);
      case 'with_statement': {
        const clause = node.children.find((c) => c.type === 'with_clause');
        let gradientOff = false;
        for (const item of clause ? namedChildren(clause) : []) {
          const value = child(item, 'value');
          if (!value) continue;
          if (value.type === 'as_pattern') {
            const [expression] = namedChildren(value);
            const bound = expression ? this.evalExpr(expression, env) : UNKNOWN;
            const alias = child(value, 'alias');
            if (alias) this.assign(namedChildren(alias)[0] ?? alias, bound, env);
            if (expression && disablesGradient(bound, expression)) gradientOff = true;
          } else if (disablesGradient(this.evalExpr(value, env), value)) gradientOff = true;
        }
        const body = child(node, 'body');
        if (!body) return env;
        if (gradientOff) this.gradientOffDepth++;
        try {
          return this.execBlock(body, env);
        } finally {
          if (gradientOff) this.gradientOffDepth--;
        }
      }
      case 'function_definition':
        this.defineFunction(node, env);
        return env;
      case 'class_definition':
        this.defineClass(node, env);
        return env;
      case 'decorated_definition': {
        const definition = child(node, 'definition');
        return definition ? this.execStatement(definition, env) : env;
      }
      case 'return_statement': {
        const [expression] = namedChildren(node);
        const value = expression ? this.evalTopExpression(expression, env) : UNKNOWN;
        this.frames[this.frames.length - 1]?.returns.push(value);
        return null;
      }
      case 'raise_statement':
        for (const expression of namedChildren(node)) this.evalExpr(expression, env);
        return null;
      case 'break_statement':
      case 'continue_statement': {
        const frame = this.frames[this.frames.length - 1];
        const exits = frame ? frame.loopExits : this.moduleLoopExits;
        exits[exits.length - 1]?.push(env);
        return null;
      }
      case 'match_statement': {
        const subject = child(node, 'subject');
        if (subject) this.evalExpr(subject, env);
        const body = child(node, 'body');
        const branches: (Env | null)[] = [env];
        for (const alternative of body ? namedChildren(body) : []) {
          const consequence = child(alternative, 'consequence');
          if (consequence) branches.push(this.execBlock(consequence, this.fork(env)));
        }
        return this.merge(env, branches);
      }
      case 'block':
        return this.execBlock(node, env);
      case 'ERROR':
        // What parses inside an error node is still analysed statement by statement.
        for (const part of namedChildren(node)) {
          if (part.type.endsWith('statement') || part.type.endsWith('definition')) {
            const next = this.execStatement(part, env);
            if (!next) return null;
            env = next;
          } else if (part.type !== 'ERROR') this.evalExpr(part, env);
        }
        return env;
      default:
        for (const part of namedChildren(node)) if (part.type.endsWith('expression') || part.type === 'call') this.evalExpr(part, env);
        return env;
    }
  }

  private readonly moduleLoopExits: Env[][] = [];

  private execIf(node: PyNode, env: Env): Env | null {
    const condition = child(node, 'condition');
    if (condition) this.evalExpr(condition, env);
    const branches: (Env | null)[] = [];
    const consequence = child(node, 'consequence');
    branches.push(consequence ? this.execBlock(consequence, this.fork(env)) : env);
    let hasElse = false;
    for (const alternative of node.children.filter((c) => c.field === 'alternative')) {
      if (alternative.type === 'elif_clause') {
        const elifCondition = child(alternative, 'condition');
        if (elifCondition) this.evalExpr(elifCondition, env);
        const body = child(alternative, 'consequence');
        branches.push(body ? this.execBlock(body, this.fork(env)) : env);
      } else {
        hasElse = true;
        const body = child(alternative, 'body');
        branches.push(body ? this.execBlock(body, this.fork(env)) : env);
      }
    }
    if (!hasElse) branches.push(env);
    return this.merge(env, branches);
  }

  private execLoop(node: PyNode, env: Env): Env | null {
    let iterated: Value = UNKNOWN;
    if (node.type === 'for_statement') {
      const right = child(node, 'right');
      if (right) iterated = this.evalExpr(right, env);
    } else {
      const condition = child(node, 'condition');
      if (condition) this.evalExpr(condition, env);
    }
    const left = child(node, 'left');
    const body = child(node, 'body');
    const unrolled = node.type === 'for_statement' ? (orderedLayersOf(iterated) ?? namedLayerPairsOf(iterated)) : undefined;
    if (unrolled) return this.execUnrolledLoop(node, env, left, body, unrolled);
    this.loopDepth++;
    const snapshot = this.recordsSnapshot();
    let pass = this.execLoopBody(env, left, iterated, body, undefined);
    // A later iteration starts from what the previous one left: where the body changed a value that was known
    // before the loop, evaluate the body again from the merge of both (its first evaluation is discarded).
    const carried = this.loopDepth <= MAX_RERUN_LOOP_DEPTH ? this.loopCarried(env, [pass.end, ...pass.exits]) : undefined;
    if (carried) {
      this.restoreRecords(snapshot);
      pass = this.execLoopBody(env, left, iterated, body, carried);
    }
    this.loopDepth--;
    // The body runs zero or more times: what holds after the loop holds on entry and after every iteration.
    let after = this.merge(env, [env, pass.end, ...pass.exits]);
    const alternative = child(node, 'alternative');
    const elseBody = alternative ? child(alternative, 'body') : undefined;
    if (elseBody && after) after = this.execBlock(elseBody, after);
    return after;
  }

  /**
   * `for layer in self.layers: x = layer(x)` over a module container whose layers are known in order: the body is
   * evaluated once per layer, each iteration starting where the previous one ended (a `break` or `continue` path joins
   * the next iteration too, which only loses information).
   */
  private execUnrolledLoop(node: PyNode, env: Env, left: PyNode | undefined, body: PyNode | undefined, items: readonly Value[]): Env | null {
    const frame = this.frames[this.frames.length - 1];
    const exitStack = frame ? frame.loopExits : this.moduleLoopExits;
    let state: Env | null = env;
    this.loopDepth++;
    for (const item of items) {
      if (!state) break;
      const bodyEnv = this.fork(state);
      if (left) this.assign(left, item, bodyEnv);
      exitStack.push([]);
      const end = body ? this.execBlock(body, bodyEnv) : bodyEnv;
      const exits = exitStack.pop() ?? [];
      state = this.merge(state, [end, ...exits]);
    }
    this.loopDepth--;
    const alternative = child(node, 'alternative');
    const elseBody = alternative ? child(alternative, 'body') : undefined;
    if (elseBody && state) state = this.execBlock(elseBody, state);
    return state;
  }

  private execLoopBody(env: Env, left: PyNode | undefined, iterated: Value, body: PyNode | undefined, carried: Map<string, Value> | undefined): { end: Env | null; exits: Env[] } {
    const bodyEnv = this.fork(env);
    if (carried) for (const [name, value] of carried) bodyEnv.vars.set(name, value);
    if (left) this.assign(left, iterationElement(iterated), bodyEnv);
    const frame = this.frames[this.frames.length - 1];
    const exitStack = frame ? frame.loopExits : this.moduleLoopExits;
    exitStack.push([]);
    const end = body ? this.execBlock(body, bodyEnv) : bodyEnv;
    const exits = exitStack.pop() ?? [];
    return { end, exits };
  }

  /**
   * Names the loop body re-bound whose value before the loop carried information (not a plain number or unknown)
   * and changed: mapped to what holds on entry to any iteration. Undefined when no such name exists.
   */
  private loopCarried(before: Env, paths: (Env | null)[]): Map<string, Value> | undefined {
    const live = paths.filter((p): p is Env => p !== null);
    let carried: Map<string, Value> | undefined;
    const seen = new Set<string>();
    for (const path of live) {
      for (let layer: Env | null = path; layer && layer !== before; layer = layer.parent) {
        for (const name of layer.vars.keys()) {
          if (seen.has(name)) continue;
          seen.add(name);
          const initial = lookupIn(before, name);
          if (!initial || initial.kind === 'unknown' || initial.kind === 'number') continue;
          let merged: Value = initial;
          for (const other of live) merged = mergeValues(merged, lookupIn(other, name) ?? initial);
          if (merged === initial) continue;
          (carried ??= new Map()).set(name, merged);
        }
      }
    }
    return carried;
  }

  private recordsSnapshot(): { lossCalls: number; events: number; lossObjects: number; functions: number; classes: number } {
    return { lossCalls: this.lossCalls.length, events: this.events.length, lossObjects: this.lossObjects.length, functions: this.functions.length, classes: this.classes.length };
  }

  /** Forgets what a discarded evaluation of a loop body recorded. */
  private restoreRecords(snapshot: ReturnType<Evaluator['recordsSnapshot']>): void {
    this.lossCalls.length = snapshot.lossCalls;
    for (const event of this.events.splice(snapshot.events)) this.eventNodes.delete(event.node);
    this.lossObjects.length = snapshot.lossObjects;
    this.functions.length = snapshot.functions;
    this.classes.length = snapshot.classes;
  }

  private execTry(node: PyNode, env: Env): Env | null {
    const body = child(node, 'body');
    const afterBody = body ? this.execBlock(body, this.fork(env)) : env;
    const branches: (Env | null)[] = [];
    let normal = afterBody;
    let finallyClause: PyNode | undefined;
    for (const clause of node.children) {
      if (clause.type === 'except_clause' || clause.type === 'except_group_clause') {
        // A handler starts from what holds both before and after the body (the exception may come from anywhere in it).
        const handlerStart = this.fork(env);
        this.merge(handlerStart, [handlerStart, afterBody]);
        const block = clause.children.find((c) => c.type === 'block');
        branches.push(block ? this.execBlock(block, this.fork(handlerStart)) : handlerStart);
      } else if (clause.type === 'else_clause') {
        const elseBody = child(clause, 'body');
        if (normal && elseBody) normal = this.execBlock(elseBody, normal);
      } else if (clause.type === 'finally_clause') finallyClause = clause;
    }
    let after = this.merge(env, [normal, ...branches]);
    const finallyBlock = finallyClause?.children.find((c) => c.type === 'block');
    if (after && finallyBlock) after = this.execBlock(finallyBlock, after);
    return after;
  }

  private execImport(node: PyNode, env: Env): void {
    if (node.type === 'import_statement') {
      for (const name of namedChildren(node)) {
        if (name.type === 'aliased_import') {
          const path = textOf(child(name, 'name')!).replace(/\s+/g, '');
          const project = this.project?.find(node.unit, path, 0);
          env.vars.set(textOf(child(name, 'alias')!), project ? { kind: 'module', module: project } : { kind: 'ref', path: normalizePath(path) });
        } else {
          const path = textOf(name).replace(/\s+/g, '');
          // `import torch.nn` binds `torch`.
          const top = path.split('.')[0];
          const project = this.project?.find(node.unit, top, 0);
          env.vars.set(top, project ? { kind: 'module', module: project } : { kind: 'ref', path: normalizePath(top) });
        }
      }
      return;
    }
    if (node.type !== 'import_from_statement') return;
    const moduleNode = child(node, 'module_name');
    if (!moduleNode) return;
    if (this.project) {
      const level = moduleNode.type === 'relative_import' ? (/^\.+/.exec(textOf(moduleNode))?.[0].length ?? 0) : 0;
      const dotted = textOf(moduleNode).replace(/^\.+/, '').replace(/\s+/g, '');
      const module = this.project.find(node.unit, dotted, level);
      if (module) {
        this.importFromProject(node, module, env);
        return;
      }
    }
    // A relative import that is not a project module (no file known): its names stay unknown.
    if (moduleNode.type === 'relative_import') return;
    const modulePath = textOf(moduleNode).replace(/\s+/g, '');
    if (node.children.some((c) => c.type === 'wildcard_import')) {
      // `from torch.nn.functional import *`: binds what the module exports; later bindings override, as in Python.
      const module = normalizePath(modulePath);
      for (const name of modelledNamesUnder(module)) env.vars.set(name, { kind: 'ref', path: `${module}.${name}` });
      return;
    }
    for (const name of node.children.filter((c) => c.field === 'name')) {
      if (name.type === 'aliased_import') {
        const imported = textOf(child(name, 'name')!);
        env.vars.set(textOf(child(name, 'alias')!), { kind: 'ref', path: normalizePath(`${modulePath}.${imported}`) });
      } else {
        const imported = textOf(name);
        env.vars.set(imported.split('.').pop()!, { kind: 'ref', path: normalizePath(`${modulePath}.${imported}`) });
      }
    }
  }

  // ---------------------------------------------------------------- project modules (imports followed)

  /**
   * `from model import Net, loss_fn as f` of a project module: each name is bound to a placeholder the name lookup
   * resolves on first read (`resolveImportedName`); `from model import *` binds so each name read from the module's text
   * (`ProjectModules.starNames`), without running it.
   */
  private importFromProject(node: PyNode, module: ProjectModule, env: Env): void {
    if (node.children.some((c) => c.type === 'wildcard_import')) {
      for (const name of this.project!.starNames(module)) env.vars.set(name, { kind: 'imported-name', module, name });
      return;
    }
    for (const name of node.children.filter((c) => c.field === 'name')) {
      const imported = textOf(name.type === 'aliased_import' ? child(name, 'name')! : name);
      const alias = name.type === 'aliased_import' ? textOf(child(name, 'alias')!) : imported;
      env.vars.set(alias, { kind: 'imported-name', module, name: imported });
    }
  }

  /**
   * The module scope of an imported project module, its top level evaluated on first use (once per analysis). In an
   * import cycle the module being evaluated answers with the names bound so far, as Python's partly initialised module
   * does. Undefined for a module that cannot be read, does not parse, or lies past the bounds: its names are unknown.
   */
  private moduleGlobals(module: ProjectModule): Env | undefined {
    if (module.state !== 'pending') return module.globals;
    const project = this.project!;
    const file = module.resolved.file;
    const globals: Env = { vars: new Map(), parent: null, closure: null };
    this.importedGlobals.add(globals);
    if (!file) {
      // A namespace package: only submodules.
      module.state = 'done';
      module.globals = globals;
      return globals;
    }
    if (this.importDepth >= MAX_IMPORT_DEPTH || project.evaluated >= MAX_MODULES_PER_ANALYSIS) {
      module.state = 'failed';
      project.limits.add(
        this.importDepth >= MAX_IMPORT_DEPTH
          ? `imports nested deeper than ${MAX_IMPORT_DEPTH} modules were not followed`
          : `only ${MAX_MODULES_PER_ANALYSIS} imported modules are followed per analysis; the others are unknown`,
      );
      return undefined;
    }
    const unit = project.unitOf(module);
    // Python cannot import a module with a syntax error: nothing it would define is known.
    if (!unit) {
      module.state = 'failed';
      return undefined;
    }
    project.evaluated++;
    module.state = 'evaluating';
    module.globals = globals;
    // A frame of its own: functions defined there keep its scope as their globals (see `lookup`).
    this.frames.push({ fn: null, returns: [], loopExits: [] });
    this.importDepth++;
    try {
      let env: Env | null = globals;
      for (const statement of unit.root.children) {
        if (!env) break;
        if (!statement.named || isMainGuard(statement)) continue;
        env = this.execStatement(statement, env);
      }
    } finally {
      this.importDepth--;
      this.frames.pop();
      module.state = 'done';
    }
    return globals;
  }

  /** What `from module import name` binds: the module's value of `name` (re-exports followed), else its submodule `name`. */
  private resolveImportedName(imported: Value): Value {
    let value = imported;
    for (let hops = 0; value.kind === 'imported-name'; hops++) {
      if (hops >= MAX_REEXPORT_HOPS) return UNKNOWN;
      const { module, name } = value;
      const bound = this.moduleGlobals(module)?.vars.get(name);
      if (bound) value = bound;
      else {
        const submodule = this.project!.submodule(module, name);
        return submodule ? { kind: 'module', module: submodule } : UNKNOWN;
      }
    }
    return value;
  }

  /** `model.Net`, `pkg.sub`: a name of the module's top level, else a submodule. */
  private moduleAttribute(object: ModuleValue, attr: string): Value {
    const bound = this.moduleGlobals(object.module)?.vars.get(attr);
    if (bound) return this.resolveImportedName(bound);
    const submodule = this.project!.submodule(object.module, attr);
    return submodule ? { kind: 'module', module: submodule } : UNKNOWN;
  }

  private isImportedScope(scope: Env | null): boolean {
    for (let layer = scope; layer; layer = layer.parent) if (this.importedGlobals.has(layer)) return true;
    return false;
  }

  private defineFunction(node: PyNode, env: Env, owner?: ClassValue): FunctionValue {
    const name = textOf(child(node, 'name')!);
    const fn: FunctionValue = {
      kind: 'function',
      node,
      name,
      // Methods see the scope around their class, not the class body; module-level functions read globals at call time.
      closure: owner ? env.closure : this.isModuleLevel() ? null : env,
      owner,
      evaluations: 0,
    };
    if (owner && methodRunsWithoutGradient(name, owner)) fn.gradientOff = true;
    if (node.parent?.type === 'decorated_definition') {
      for (const decorator of namedChildren(node.parent).filter((c) => c.type === 'decorator')) {
        const [expression] = namedChildren(decorator);
        if (expression && disablesGradient(this.evalExpr(expression, env), expression)) fn.gradientOff = true;
      }
    }
    this.functions.push(fn);
    if (!owner) env.vars.set(name, fn);
    return fn;
  }

  private defineClass(node: PyNode, env: Env): void {
    const name = textOf(child(node, 'name')!);
    const superclasses = child(node, 'superclasses');
    const bases = superclasses ? namedChildren(superclasses).filter((b) => b.type !== 'keyword_argument').map((b) => this.evalExpr(b, env)) : [];
    const cls: ClassValue = {
      kind: 'class',
      node,
      name,
      bases,
      methods: new Map(),
      classAttrs: new Map(),
      isModule: bases.some((b) => (b.kind === 'ref' && MODULE_BASE_CLASSES.has(b.path)) || (b.kind === 'class' && b.isModule)),
      instantiated: false,
    };
    this.classes.push(cls);
    env.vars.set(name, cls);
    const body = child(node, 'body');
    const classEnv: Env = { vars: new Map(), parent: null, closure: this.isModuleLevel() ? null : env };
    for (const statement of body ? namedChildren(body) : []) {
      let definition = statement;
      if (statement.type === 'decorated_definition') definition = child(statement, 'definition') ?? statement;
      if (definition.type === 'function_definition') {
        const method = this.defineFunction(definition, classEnv, cls);
        cls.methods.set(method.name, method);
      } else if (definition.type === 'expression_statement') {
        for (const expression of namedChildren(definition)) this.evalTopExpression(expression, classEnv);
      }
    }
    for (const [attr, value] of classEnv.vars) cls.classAttrs.set(attr, value);
  }

  private findMethod(cls: ClassValue, name: string): FunctionValue | undefined {
    const seen = new Set<ClassValue>();
    const queue = [cls];
    while (queue.length > 0) {
      const current = queue.shift()!;
      if (seen.has(current)) continue;
      seen.add(current);
      const method = current.methods.get(name);
      if (method) return method;
      for (const base of current.bases) if (base.kind === 'class') queue.push(base);
    }
    return undefined;
  }

  private instantiate(cls: ClassValue, args: CallArguments): InstanceValue {
    const instance: InstanceValue = { kind: 'instance', cls, attrs: new Map() };
    if (!this.prototypes.has(cls)) this.prototypes.set(cls, instance);
    cls.instantiated = true;
    const init = this.findMethod(cls, '__init__');
    if (init) this.invoke(init, instance, args);
    return instance;
  }

  private isOnStack(fn: FunctionValue): boolean {
    for (const frame of this.frames) if (frame.fn === fn) return true;
    return false;
  }

  /** Evaluates a program function's body with these arguments (bounded depth and evaluations). */
  invoke(fn: FunctionValue, self: Value | undefined, args: CallArguments): Value {
    if (this.frames.length >= MAX_CALL_DEPTH || this.isOnStack(fn)) return fn.returnSummary ?? UNKNOWN;
    if (fn.evaluations >= MAX_EVALUATIONS_PER_FUNCTION) return fn.returnSummary ?? UNKNOWN;
    fn.evaluations++;
    const vars = new Map<string, Value>();
    const env: Env = { vars, parent: null, closure: fn.closure };
    const parameters = child(fn.node, 'parameters');
    let nextPositional = 0;
    let first = true;
    for (const parameter of parameters ? namedChildren(parameters) : []) {
      let nameNode: PyNode | undefined = parameter;
      let defaultNode: PyNode | undefined;
      if (parameter.type === 'typed_parameter') nameNode = namedChildren(parameter)[0];
      else if (parameter.type === 'default_parameter' || parameter.type === 'typed_default_parameter') {
        nameNode = child(parameter, 'name');
        defaultNode = child(parameter, 'value');
      } else if (parameter.type !== 'identifier') {
        nameNode = namedChildren(parameter).find((c) => c.type === 'identifier');
        if (nameNode) vars.set(textOf(nameNode), UNKNOWN);
        first = false;
        continue;
      }
      if (!nameNode || nameNode.type !== 'identifier') continue;
      const name = textOf(nameNode);
      if (first && self !== undefined) {
        vars.set(name, self);
        first = false;
        continue;
      }
      first = false;
      const keyword = args.keywords.get(name);
      const argument = keyword ?? args.positional[nextPositional++];
      if (argument) vars.set(name, argument.value);
      else vars.set(name, defaultNode ? this.evalExpr(defaultNode, { vars: new Map(), parent: null, closure: fn.closure }) : UNKNOWN);
    }
    const frame: Frame = { fn, returns: [], loopExits: [] };
    this.frames.push(frame);
    if (fn.gradientOff) this.gradientOffDepth++;
    try {
      const body = child(fn.node, 'body');
      if (body) this.execBlock(body, env);
    } finally {
      this.frames.pop();
      if (fn.gradientOff) this.gradientOffDepth--;
    }
    const result = frame.returns.length === 0 ? UNKNOWN : frame.returns.reduce((a, b) => mergeValues(a, b));
    fn.returnSummary = fn.returnSummary ? mergeValues(fn.returnSummary, result) : result;
    return result;
  }

  // ---------------------------------------------------------------- assignment

  private assign(target: PyNode, value: Value, env: Env): void {
    if (this.expressionDepth >= MAX_EXPRESSION_DEPTH) return;
    this.expressionDepth++;
    this.assignPattern(target, value, env);
    this.expressionDepth--;
  }

  private assignPattern(target: PyNode, value: Value, env: Env): void {
    switch (target.type) {
      case 'identifier':
        env.vars.set(textOf(target), value);
        return;
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'tuple':
      case 'list':
      case 'expression_list': {
        const targets = namedChildren(target);
        targets.forEach((t, i) => {
          const item = (value.kind === 'tuple' || value.kind === 'list') && value.items.length === targets.length ? value.items[i] : UNKNOWN;
          this.assign(t, item, env);
        });
        return;
      }
      case 'parenthesized_expression': {
        const [inner] = namedChildren(target);
        if (inner) this.assign(inner, value, env);
        return;
      }
      case 'attribute': {
        const object = this.evalExpr(child(target, 'object')!, env);
        const attr = textOf(child(target, 'attribute')!);
        if (object.kind === 'instance') object.attrs.set(attr, value);
        return;
      }
      case 'list_splat_pattern': {
        const [inner] = namedChildren(target);
        if (inner) this.assign(inner, UNKNOWN, env);
        return;
      }
      case 'subscript': {
        // `outputs["probs"] = ...` on a dict literal, `outputs[name] = ...` in a loop over known keys; `self.heads["k"] = layer`.
        const container = this.evalExpr(child(target, 'value')!, env);
        const key = this.subscriptKey(target, env);
        if (container.kind === 'dict' && key !== undefined) container.entries.set(key, value);
        if (container.kind === 'layer') setModuleDictEntry(container, key, value, target);
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- expressions

  /** A whole expression statement or right-hand side: where hand-written cross-entropy formulas are recognised. */
  private evalTopExpression(node: PyNode, env: Env): Value {
    if (node.type === 'assignment') {
      const right = child(node, 'right');
      const value = right ? this.evalTopExpression(right, env) : UNKNOWN;
      const left = child(node, 'left');
      if (left) this.assign(left, value, env);
      return value;
    }
    if (node.type === 'augmented_assignment') {
      const left = child(node, 'left')!;
      const right = child(node, 'right');
      const before = this.evalExpr(left, env);
      const rightValue = right ? this.evalTopExpression(right, env) : UNKNOWN;
      const value = before.kind === 'number' || rightValue.kind === 'number' ? UNKNOWN : tensor(withLossOf({}, before, rightValue));
      this.assign(left, value, env);
      return value;
    }
    const value = this.evalExpr(node, env);
    const term = factsOf(value).crossEntropyTerm;
    if (!term || !term.reduced || value.kind !== 'tensor') return value;
    this.addEvent({ kind: 'manual-cross-entropy', node, framework: 'pytorch', origins: term.origins });
    // Reported where the formula is written; the value it flows into elsewhere is not a second formula.
    const rest = { ...value.facts };
    delete rest.crossEntropyTerm;
    return tensor(rest);
  }

  private lookup(name: string, env: Env): Value {
    let value = lookupIn(env, name);
    let outermost: Env | null = env;
    for (let scope = env.closure; value === undefined && scope; scope = scope.closure) {
      value = lookupIn(scope, name);
      outermost = scope;
    }
    // Code of an imported module sees its own module scope, not the analysed program's.
    if (value === undefined && this.isImportedScope(outermost)) return UNKNOWN;
    value ??= lookupIn(this.moduleEnv, name);
    if (value?.kind === 'imported-name') return this.resolveImportedName(value);
    if (value) return value;
    const conventional = CONVENTIONAL_ALIASES[name];
    return conventional ? { kind: 'ref', path: conventional } : UNKNOWN;
  }

  evalExpr(node: PyNode, env: Env): Value {
    if (this.expressionDepth >= MAX_EXPRESSION_DEPTH) return UNKNOWN;
    this.expressionDepth++;
    const value = this.evalExpression(node, env);
    this.expressionDepth--;
    return value;
  }

  private evalExpression(node: PyNode, env: Env): Value {
    this.tick();
    switch (node.type) {
      case 'identifier':
        return this.lookup(textOf(node), env);
      case 'integer':
      case 'float': {
        const text = textOf(node);
        const value = Number(text.includes('_') ? text.replace(/_/g, '') : text);
        return Number.isFinite(value) ? { kind: 'number', value, float: node.type === 'float', node } : UNKNOWN;
      }
      case 'true':
      case 'false':
        return { kind: 'bool', value: node.type === 'true' };
      case 'string': {
        const value = stringLiteral(node);
        return value === undefined ? UNKNOWN : { kind: 'string', value, node };
      }
      case 'parenthesized_expression': {
        const [inner] = namedChildren(node);
        return inner ? this.evalExpr(inner, env) : UNKNOWN;
      }
      case 'tuple':
      case 'list':
      case 'expression_list':
        return { kind: node.type === 'list' ? 'list' : 'tuple', items: namedChildren(node).map((item) => this.evalExpr(item, env)), node };
      case 'attribute':
        return this.evalAttribute(node, env);
      case 'call':
        return this.evalCall(node, env);
      case 'subscript':
        return this.evalSubscript(node, env);
      case 'binary_operator':
        return this.evalBinary(node, env);
      case 'unary_operator': {
        const operand = child(node, 'argument');
        const value = operand ? this.evalExpr(operand, env) : UNKNOWN;
        const operator = child(node, 'operator');
        if (value.kind === 'number' && operator && textOf(operator) === '-') return { kind: 'number', value: -value.value, float: value.float };
        const facts = factsOf(value);
        if (facts.crossEntropyTerm && operator && textOf(operator) === '-') {
          return tensor({ crossEntropyTerm: { ...facts.crossEntropyTerm, reduced: true }, lossOf: facts.lossOf });
        }
        if (facts.score?.value === 'logits') return tensor({ score: facts.score });
        return value.kind === 'tensor' ? tensor(withLossOf({}, value)) : UNKNOWN;
      }
      case 'conditional_expression': {
        const parts = namedChildren(node);
        const values = parts.map((p) => this.evalExpr(p, env));
        return values.length === 3 ? mergeValues(values[0], values[2]) : UNKNOWN;
      }
      case 'assignment':
      case 'named_expression': {
        if (node.type === 'named_expression') {
          const value = this.evalExpr(child(node, 'value')!, env);
          this.assign(child(node, 'name')!, value, env);
          return value;
        }
        return this.evalTopExpression(node, env);
      }
      case 'lambda':
      case 'list_comprehension':
      case 'dictionary_comprehension':
      case 'set_comprehension':
      case 'generator_expression':
        return UNKNOWN;
      case 'keyword_argument': {
        const value = child(node, 'value');
        return value ? this.evalExpr(value, env) : UNKNOWN;
      }
      case 'dictionary':
        return this.evalDictionary(node, env);
      case 'await':
      case 'not_operator':
      case 'boolean_operator':
      case 'comparison_operator':
      case 'set':
        for (const part of namedChildren(node)) this.evalExpr(part, env);
        return node.type === 'comparison_operator' ? tensor({ dtype: { value: 'bool', origins: [] } }) : UNKNOWN;
      default:
        for (const part of namedChildren(node)) if (part.type === 'call' || part.type === 'binary_operator') this.evalExpr(part, env);
        return UNKNOWN;
    }
  }

  private evalAttribute(node: PyNode, env: Env): Value {
    const objectNode = child(node, 'object');
    const attrNode = child(node, 'attribute');
    if (!objectNode || !attrNode) return UNKNOWN;
    const object = this.evalExpr(objectNode, env);
    return this.attributeOf(object, textOf(attrNode), node);
  }

  private attributeOf(object: Value, attr: string, node: PyNode): Value {
    switch (object.kind) {
      case 'alternatives':
        return object.options.map((option) => this.attributeOf(option, attr, node)).reduce(mergeValues);
      case 'module':
        return this.moduleAttribute(object, attr);
      case 'ref':
        return { kind: 'ref', path: normalizePath(`${object.path}.${attr}`) };
      case 'instance': {
        const value = object.attrs.get(attr);
        if (value) return value;
        const method = this.findMethod(object.cls, attr);
        if (method) return { kind: 'bound-method', self: object, fn: method };
        return object.cls.classAttrs.get(attr) ?? UNKNOWN;
      }
      case 'class': {
        const method = this.findMethod(object, attr);
        return method ?? object.classAttrs.get(attr) ?? UNKNOWN;
      }
      case 'tuple':
        // torch.max(x, dim) returns (values, indices).
        if (attr === 'indices' && object.items.length === 2) return object.items[1];
        if (attr === 'values' && object.items.length === 2) return object.items[0];
        return UNKNOWN;
      case 'tensor':
        return tensorAttribute(object, attr, node);
      default:
        return UNKNOWN;
    }
  }

  private evalDictionary(node: PyNode, env: Env): Value {
    const entries = new Map<string, Value>();
    for (const entry of namedChildren(node)) {
      if (entry.type !== 'pair') {
        this.evalExpr(entry, env);
        continue;
      }
      const key = stringLiteral(child(entry, 'key'));
      const valueNode = child(entry, 'value');
      const value = valueNode ? this.evalExpr(valueNode, env) : UNKNOWN;
      if (key !== undefined) entries.set(key, value);
    }
    return { kind: 'dict', entries };
  }

  /**
   * Evaluates a subscript's indices (slices aside); its key when it is one string: a literal, or a name bound to a
   * known string (`outputs[name]` in a loop over a `ModuleDict`'s items).
   */
  private subscriptKey(subscript: PyNode, env: Env): string | undefined {
    const indices = subscript.children.filter((c) => c.field === 'subscript');
    const values = indices.map((index) => (index.type === 'slice' ? UNKNOWN : this.evalExpr(index, env)));
    if (indices.length !== 1) return undefined;
    return stringLiteral(indices[0]) ?? (values[0].kind === 'string' ? values[0].value : undefined);
  }

  private evalSubscript(node: PyNode, env: Env): Value {
    const valueNode = child(node, 'value');
    if (!valueNode) return UNKNOWN;
    const value = this.evalExpr(valueNode, env);
    const subscripts = node.children.filter((c) => c.field === 'subscript');
    const key = this.subscriptKey(node, env);
    if (value.kind === 'dict') return (key !== undefined && value.entries.get(key)) || UNKNOWN;
    if (value.kind === 'layer') return (key !== undefined && moduleDictLookup(value, key)) || UNKNOWN;
    if (value.kind === 'tuple' || value.kind === 'list') {
      const [index] = subscripts;
      if (subscripts.length === 1 && index.type === 'integer') return value.items.at(Number(textOf(index))) ?? UNKNOWN;
      if (subscripts.length === 1 && index.type === 'unary_operator') return value.items.at(Number(textOf(index).replace(/\s+/g, ''))) ?? UNKNOWN;
      return UNKNOWN;
    }
    if (value.kind !== 'tensor') return UNKNOWN;
    const facts = value.facts;
    const next: TensorFacts = withLossOf({}, value);
    if (facts.score) next.score = facts.score;
    if (facts.encoding) next.encoding = facts.encoding;
    if (facts.dtype) next.dtype = facts.dtype;
    if (facts.detached) next.detached = facts.detached;
    if (facts.predictedLabels) next.predictedLabels = facts.predictedLabels;
    // `np.eye(C)[y]`: indexing rows keeps the last dimension.
    if (facts.lastDim && subscripts.length === 1 && subscripts[0].type !== 'slice' && facts.encoding?.value === 'one-hot') next.lastDim = facts.lastDim;
    // `y[:, None]` adds a trailing dimension of one.
    const texts = subscripts.map((s) => textOf(s).replace(/\s+/g, ''));
    if (texts.length === 2 && texts[0] === ':' && texts[1] === 'None') {
      next.trailingOne = { value: true, origins: [origin(node, '`[:, None]` adds a dimension of size 1')] };
      next.rank = { value: 2, origins: [origin(node, 'shape [N, 1]')] };
    }
    return tensor(next);
  }

  private evalBinary(node: PyNode, env: Env): Value {
    const leftNode = child(node, 'left');
    const rightNode = child(node, 'right');
    const operatorNode = child(node, 'operator');
    const left = leftNode ? this.evalExpr(leftNode, env) : UNKNOWN;
    const right = rightNode ? this.evalExpr(rightNode, env) : UNKNOWN;
    const operator = operatorNode ? textOf(operatorNode) : '';
    if (left.kind === 'number' && right.kind === 'number') {
      const result =
        operator === '+' ? left.value + right.value
        : operator === '-' ? left.value - right.value
        : operator === '*' ? left.value * right.value
        : operator === '//' ? Math.floor(left.value / right.value)
        : operator === '/' ? left.value / right.value
        : NaN;
      return Number.isFinite(result) ? { kind: 'number', value: result, float: left.float || right.float || operator === '/' } : UNKNOWN;
    }
    if (operator === '/' && leftNode && rightNode) {
      const activation = handWrittenActivation(node, leftNode, rightNode, left);
      if (activation) return activation;
    }
    const lf = factsOf(left);
    const rf = factsOf(right);
    const facts = withLossOf({}, left, right);
    if (operator === '*') {
      const logSide = lf.logOfProbabilities ?? rf.logOfProbabilities;
      // `p * log(p)` is an entropy (a regulariser or a metric), not a cross-entropy against a target.
      const otherSide = lf.logOfProbabilities ? rf : lf;
      if (logSide && otherSide.score?.value !== 'probabilities') facts.crossEntropyTerm = { value: true, origins: logSide.origins, reduced: false };
      // An entropy over a log taken without gradient: a probability that underflowed to 0 gives 0 * -inf = NaN.
      const quietLog = (lf.logOfProbabilities ? lf : rf).logWithoutGradient;
      if (logSide && quietLog && !quietLog.guarded && otherSide.score?.value === 'probabilities') this.addEvent({ ...quietLog, entropy: true });
    }
    if ((operator === '*' || operator === '/') && !facts.crossEntropyTerm) {
      // Scaling a cross-entropy term (`/ batch_size`, `* weight`) keeps it one.
      const term = lf.crossEntropyTerm ?? (operator === '*' ? rf.crossEntropyTerm : undefined);
      if (term) facts.crossEntropyTerm = term;
    }
    if (operator === '+' || operator === '-') {
      if (lf.crossEntropyTerm && rf.crossEntropyTerm) facts.crossEntropyTerm = { ...lf.crossEntropyTerm, origins: [...lf.crossEntropyTerm.origins, ...rf.crossEntropyTerm.origins] };
      // `p + eps`: still probabilities (of the same activation) for the log rules, and a log of it stays finite.
      // `1 - p` too for a sigmoid (it is sigmoid(-x)); for a softmax it is no probability log_softmax computes.
      const constantLeft = left.kind === 'number';
      const constantRight = right.kind === 'number';
      const keeps = (score: TensorFacts['score']) => score?.value === 'probabilities' && (operator === '+' || score.activation !== 'softmax');
      if (constantRight && keeps(lf.score)) facts.score = lf.score;
      if (constantLeft && keeps(rf.score)) facts.score = rf.score;
      const offset = constantRight ? right : constantLeft ? left : undefined;
      if (operator === '+' && facts.score && offset?.kind === 'number' && offset.value > 0) facts.guarded = { value: 'epsilon', origins: [origin(node, 'kept away from 0 by an epsilon')] };
    }
    if ((operator === '/' || operator === '*') && (right.kind === 'number' || left.kind === 'number')) {
      // Temperature scaling keeps logits logits.
      const scaled = right.kind === 'number' ? lf : rf;
      if (scaled.score?.value === 'logits') facts.score = scaled.score;
    }
    if (operator === '/' && right.kind === 'tensor' && lf.score?.value === 'logits') facts.score = lf.score;
    // Arithmetic with a scalar keeps the shape (`torch.ones(C) * 2.0`).
    const scalarLeft = left.kind === 'number';
    const scalarRight = right.kind === 'number';
    if ((scalarLeft || scalarRight) && ['+', '-', '*', '/', '**'].includes(operator)) {
      const shaped = scalarLeft ? rf : lf;
      if (shaped.rank) facts.rank = shaped.rank;
      if (shaped.lastDim) facts.lastDim = shaped.lastDim;
      if (shaped.trailingOne) facts.trailingOne = shaped.trailingOne;
      if (shaped.library) facts.library = shaped.library;
    }
    // NumPy arithmetic stays NumPy (`counts.sum() / counts`): the array is made here.
    const libraries = [lf.library?.value, rf.library?.value].filter((l) => l !== undefined);
    if (libraries.length > 0 && libraries.every((l) => l === 'numpy') && (left.kind === 'tensor' || scalarLeft) && (right.kind === 'tensor' || scalarRight)) {
      facts.library = { value: 'numpy', origins: [origin(node, 'a NumPy array computed here')] };
    }
    if (left.kind === 'tensor' || right.kind === 'tensor' || Object.keys(facts).length > 0) return tensor(facts);
    return UNKNOWN;
  }

  // ---------------------------------------------------------------- calls

  private evalArguments(node: PyNode | undefined, env: Env): CallArguments {
    const args: CallArguments = { positional: [], keywords: new Map() };
    if (!node) return args;
    if (node.type === 'generator_expression') {
      args.positional.push({ node, value: UNKNOWN });
      return args;
    }
    for (const argument of namedChildren(node)) {
      if (argument.type === 'keyword_argument') {
        const name = child(argument, 'name');
        const valueNode = child(argument, 'value');
        if (name && valueNode) args.keywords.set(textOf(name), { node: valueNode, value: this.evalExpr(valueNode, env), keywordNode: argument });
      } else if (argument.type === 'list_splat' || argument.type === 'dictionary_splat') {
        for (const inner of namedChildren(argument)) {
          const value = this.evalExpr(inner, env);
          if (argument.type === 'list_splat' && (value.kind === 'list' || value.kind === 'tuple')) {
            for (const item of value.items) args.positional.push({ node: argument, value: item });
          }
        }
      } else args.positional.push({ node: argument, value: this.evalExpr(argument, env) });
    }
    return args;
  }

  private evalCall(node: PyNode, env: Env): Value {
    const fnNode = child(node, 'function');
    if (!fnNode) return UNKNOWN;
    const args = this.evalArguments(child(node, 'arguments'), env);
    if (fnNode.type === 'attribute') {
      const receiverNode = child(fnNode, 'object')!;
      const method = textOf(child(fnNode, 'attribute')!);
      const receiver = this.evalExpr(receiverNode, env);
      return this.callMethodOf(receiver, receiverNode, method, args, node, fnNode, env);
    }
    const callee = this.evalExpr(fnNode, env);
    return this.callValue(callee, args, node, fnNode, env);
  }

  /** `receiver.method(args)`: a library path, a program method, a layer's or loss's method, or a tensor method. */
  private callMethodOf(receiver: Value, receiverNode: PyNode, method: string, args: CallArguments, node: PyNode, fnNode: PyNode, env: Env): Value {
    if (receiver.kind === 'alternatives') {
      // Every option's method runs; what their results agree on holds.
      return receiver.options.map((option) => this.callMethodOf(option, receiverNode, method, args, node, fnNode, env)).reduce(mergeValues);
    }
    if (receiver.kind === 'ref') {
      const path = normalizePath(`${receiver.path}.${method}`);
      const known = this.callPath(path, args, node, fnNode, env);
      if (known) return known;
      if (receiver.path.includes('()')) return callTensorMethod(this, UNKNOWN, receiverNode, method, args, node);
      return { kind: 'ref', path: `${path}()` };
    }
    if (receiver.kind === 'instance' && KERAS_MODEL_METHODS.has(method) && !this.findMethod(receiver.cls, method) && isKerasModelClass(receiver.cls)) {
      return callLayerMethod(this, this.kerasModelOf(receiver), method, args, node);
    }
    // `model.__call__(x)` on a module that does not define it is `model(x)`; `criterion.forward(out, y)` is `criterion(out, y)`.
    if (receiver.kind === 'instance' && method === '__call__' && !this.findMethod(receiver.cls, method)) return this.callValue(receiver, args, node, fnNode, env);
    if (receiver.kind === 'loss' && (method === 'forward' || method === '__call__')) return this.recordModuleLoss(receiver, args, node, fnNode);
    if (receiver.kind === 'instance' || receiver.kind === 'class') {
      const attribute = this.attributeOf(receiver, method, fnNode);
      // `Net().to(device)`, `model.train()`: nn.Module methods that return the module itself.
      if (attribute.kind === 'unknown' && receiver.kind === 'instance' && MODULE_SELF_METHODS.has(method)) return receiver;
      return this.callValue(attribute, args, node, fnNode, env);
    }
    if (receiver.kind === 'module') return this.callValue(this.moduleAttribute(receiver, method), args, node, fnNode, env);
    if (receiver.kind === 'loss' && MODULE_SELF_METHODS.has(method)) return receiver;
    if (receiver.kind === 'layer') return callLayerMethod(this, receiver, method, args, node);
    if (receiver.kind === 'dict') {
      const key = method === 'get' || method === 'pop' ? args.positional[0]?.value : undefined;
      return (key?.kind === 'string' && receiver.entries.get(key.value)) || UNKNOWN;
    }
    return callTensorMethod(this, receiver, receiverNode, method, args, node);
  }

  private callValue(callee: Value, args: CallArguments, node: PyNode, fnNode: PyNode, env: Env): Value {
    const code = callee.kind === 'function' || callee.kind === 'class' ? callee.node : callee.kind === 'bound-method' ? callee.fn.node : callee.kind === 'instance' ? callee.cls.node : undefined;
    if (code && this.project?.fileOfUnit.has(code.unit) && !this.project.fileOfUnit.has(node.unit)) {
      // The program calls into an imported module: what the module's code records is tied to this call.
      const outer = this.programEntry;
      this.programEntry = node;
      try {
        return this.callValueKind(callee, args, node, fnNode, env);
      } finally {
        this.programEntry = outer;
      }
    }
    return this.callValueKind(callee, args, node, fnNode, env);
  }

  private callValueKind(callee: Value, args: CallArguments, node: PyNode, fnNode: PyNode, env: Env): Value {
    switch (callee.kind) {
      case 'ref': {
        const known = this.callPath(callee.path, args, node, fnNode, env);
        if (known) return known;
        return callee.path.includes('()') ? UNKNOWN : { kind: 'ref', path: `${callee.path}()` };
      }
      case 'layer':
        return applyLayer(callee, args.positional[0]?.value ?? UNKNOWN, node, args.positional[0]?.node);
      case 'loss':
        return this.recordModuleLoss(callee, args, node, fnNode);
      case 'function':
        return this.invoke(callee, undefined, args);
      case 'bound-method':
        return this.invoke(callee.fn, callee.self, args);
      case 'class':
        return this.instantiate(callee, args);
      case 'alternatives':
        return callee.options.map((option) => this.callValue(option, args, node, fnNode, env)).reduce(mergeValues);
      case 'instance': {
        const forward = this.findMethod(callee.cls, 'forward') ?? this.findMethod(callee.cls, '__call__') ?? (callee.cls.isModule ? this.findMethod(callee.cls, 'call') : undefined);
        return forward ? this.invoke(forward, callee, args) : UNKNOWN;
      }
      default:
        if (callee.kind === 'unknown' && fnNode.type === 'identifier') {
          const builtin = builtinCall(textOf(fnNode), args.positional[0]?.value ?? UNKNOWN, node);
          if (builtin) return builtin;
        }
        for (const argument of args.positional) this.markIfBackward(argument.value, fnNode);
        return UNKNOWN;
    }
  }

  /** A subclassed Keras model seen as a layer (its `call`), so that `compile`/`fit` attach to it as to a Sequential. */
  private kerasModelOf(instance: InstanceValue): LayerValue {
    let model = this.kerasModels.get(instance);
    if (!model) {
      const call = this.findMethod(instance.cls, 'call');
      model = {
        kind: 'layer',
        path: 'keras.Model',
        node: instance.cls.node,
        apply: (input) => (call ? this.invoke(call, instance, { positional: [{ value: input }], keywords: new Map() }) : UNKNOWN),
        keras: {},
      };
      this.kerasModels.set(instance, model);
    }
    return model;
  }

  private markIfBackward(value: Value, fnNode: PyNode): void {
    const name = fnNode.type === 'attribute' ? textOf(child(fnNode, 'attribute')!) : textOf(fnNode);
    if (/^(backward|manual_backward|gradient|minimize|grad)$/.test(name)) this.markBackpropagated(value);
  }

  // ---------------------------------------------------------------- losses

  private optionsOf(spec: LossSpec, args: CallArguments, skipPositional: number): Map<string, ArgumentFacts> {
    const options = new Map<string, ArgumentFacts>();
    for (const name of spec.optionNames) {
      const keyword = args.keywords.get(name);
      if (keyword) options.set(name, keyword);
    }
    // PyTorch's positional `weight` of the module constructors.
    if (spec.framework === 'pytorch' && skipPositional === 0 && args.positional[0] && !options.has('weight')) options.set('weight', args.positional[0]);
    // Keras loss classes take `from_logits` first: `BinaryCrossentropy(True)`.
    if (spec.framework === 'keras' && skipPositional === 0 && args.positional[0] && !options.has('from_logits')) options.set('from_logits', args.positional[0]);
    return options;
  }

  private recordModuleLoss(loss: LossValue, args: CallArguments, node: PyNode, fnNode: PyNode): Value {
    const options = new Map(loss.options);
    for (const name of loss.spec.optionNames) {
      const keyword = args.keywords.get(name);
      if (keyword) options.set(name, keyword);
    }
    return this.recordLoss(loss.spec, 'module', args, node, fnNode, options, loss);
  }

  private recordLoss(spec: LossSpec, style: LossCallFacts['style'], args: CallArguments, node: PyNode, fnNode: PyNode, options: Map<string, ArgumentFacts>, lossObject?: LossValue): Value {
    const input = argumentAt(args, spec.inputArg[0], spec.inputArg[1]);
    const target = argumentAt(args, spec.targetArg[0], spec.targetArg[1]);
    const site: LossCallFacts = {
      spec,
      style,
      call: node,
      lossObject,
      callee: fnNode,
      input,
      target,
      options,
      expects: expectationOf(spec, options),
      inputReportNode: input?.node ?? node,
      backpropagated: false,
    };
    this.recordLossCall(site);
    return tensor({ lossOf: [site] });
  }

  // ---------------------------------------------------------------- library calls

  /** Calls to things reached through imports: a loss, else whatever the library models say; undefined when none knows the path. */
  private callPath(path: string, args: CallArguments, node: PyNode, fnNode: PyNode, env: Env): Value | undefined {
    if (path === 'sys.path.append' || path === 'sys.path.insert') {
      // A literal folder added to the search path (`sys.path.append('..')` in a notebook) is searched by later imports.
      const folder = args.positional[path === 'sys.path.append' ? 0 : 1]?.value;
      if (folder?.kind === 'string' && this.project) this.project.addSysPath(node.unit, folder.value);
      return UNKNOWN;
    }
    const lossClass = LOSS_CLASSES.get(path);
    if (lossClass) {
      const loss: LossValue = { kind: 'loss', spec: lossClass, node, nameNode: fnNode, options: this.optionsOf(lossClass, args, 0) };
      this.lossObjects.push(loss);
      return loss;
    }
    const lossFunction = LOSS_FUNCTIONS.get(path);
    if (lossFunction) return this.recordLoss(lossFunction, 'function', args, node, fnNode, this.optionsOf(lossFunction, args, 2));
    return callLibrary(this, path, args, node, env);
  }

  // ---------------------------------------------------------------- the library models' context (LibraryContext)

  addEvent(event: ExpressionEvent): void {
    if (this.programEntry && !this.programEntries.has(event.node)) this.programEntries.set(event.node, this.programEntry);
    if (this.eventNodes.has(event.node)) return;
    this.eventNodes.add(event.node);
    this.events.push(event);
  }

  recordLossCall(site: LossCallFacts): void {
    if (this.programEntry && !this.programEntries.has(site.inputReportNode)) this.programEntries.set(site.inputReportNode, this.programEntry);
    this.lossCalls.push(site);
  }

  markBackpropagated(value: Value): void {
    for (const site of factsOf(value).lossOf ?? []) site.backpropagated = true;
  }

  samplesOf(dataset: Value): IterableValue | undefined {
    if (dataset.kind === 'iterable') return dataset;
    if (dataset.kind !== 'instance') return undefined;
    const getItem = this.findMethod(dataset.cls, '__getitem__');
    if (!getItem) return undefined;
    return { kind: 'iterable', element: this.invoke(getItem, dataset, { positional: [{ value: UNKNOWN }], keywords: new Map() }) };
  }

  visibleBindings(scope: Scope | undefined): Map<string, Value>[] {
    const scopes: Map<string, Value>[] = [];
    if (scope) scopes.push(bindingsOf(scope));
    if (scope?.closure) scopes.push(bindingsOf(scope.closure));
    scopes.push(bindingsOf(this.moduleEnv));
    return scopes;
  }

  gradientEnabled(): boolean {
    return this.gradientOffDepth === 0;
  }

  activationOf(path: string): Activation | undefined {
    return activationOfFunction(path);
  }

  inLoop(): boolean {
    const frame = this.frames[this.frames.length - 1];
    return (frame ? frame.loopExits : this.moduleLoopExits).length > 0;
  }
}

/** `if __name__ == "__main__":` — the part of a module that does not run when it is imported. */
function isMainGuard(statement: PyNode): boolean {
  if (statement.type !== 'if_statement') return false;
  const condition = child(statement, 'condition');
  return !!condition && /^__name__\s*==\s*['"]__main__['"]$|^['"]__main__['"]\s*==\s*__name__$/.test(textOf(condition));
}
