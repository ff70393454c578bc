import { child, namedChildren, textOf, type ParsedText, type PyNode } from '../parse/tree';
import { datasetOf, iterationBuiltin, iterationElement, loaderOver, tensorDataset } from './datasets';
import { stopGradientOf } from './gradient-flow';
import { KERAS_STRING_LOSSES, LOSS_CLASSES, LOSS_FUNCTIONS, normalizePath } from './loss-catalog';
import type { Framework } from './types';
import {
  factsOf,
  mergeValues,
  tensor,
  UNKNOWN,
  type Activation,
  type ArgumentFacts,
  type ClassValue,
  type DType,
  type Expectation,
  type FunctionValue,
  type InstanceValue,
  type IterableValue,
  type LayerValue,
  type LossCallFacts,
  type LossSpec,
  type LossValue,
  type NodeEdit,
  type Origin,
  type ScoreKind,
  type Scope,
  type TargetEncoding,
  type TensorFacts,
  type Value,
} from './values';

/**
 * The flow-sensitive evaluator: one abstract interpretation of the whole program (all units in order), statement by
 * statement. It binds names (imports with every alias), tracks what every value is (`values.ts`), follows calls into
 * functions, methods and `nn.Module.forward`, and records every loss application and suspicious expression as facts
 * for the rules. Rules never walk the tree themselves.
 */

/** An expression-level observation the expression rules consume. */
export interface ExpressionEvent {
  kind: 'softmax-without-dim' | 'log-of-softmax' | 'log-of-sigmoid' | 'manual-cross-entropy';
  /** The expression the finding is reported on. */
  node: PyNode;
  framework: Framework;
  origins: Origin[];
  /** A ready-made fix, when the engine knows one (`log(softmax(x))` → `log_softmax(x)`). */
  fix?: NodeEdit[];
  /** For log-of-sigmoid: `log(1 - sigmoid(x))`. */
  complement?: boolean;
}

export interface ProgramFacts {
  units: ParsedText[];
  lossCalls: LossCallFacts[];
  /** Every loss object constructed (`nn.CrossEntropyLoss(weight=w)`), called or not: its options are checked at construction. */
  lossObjects: LossValue[];
  events: ExpressionEvent[];
  truncated: boolean;
  /** Names bound at module level at the end of the program (for fixes that need a spelling, e.g. `F`). */
  moduleScope: Map<string, Value>;
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

interface CallArguments {
  positional: ArgumentFacts[];
  keywords: Map<string, ArgumentFacts & { keywordNode: PyNode }>;
}

class BudgetExceeded extends Error {}

/** Names used without an import in notebooks whose import cell was skipped: the conventional aliases. */
const CONVENTIONAL_ALIASES: Record<string, string> = {
  torch: 'torch',
  nn: 'torch.nn',
  F: 'torch.nn.functional',
  np: 'numpy',
  tf: 'tensorflow',
  keras: 'keras',
  jax: 'jax',
  jnp: 'jax.numpy',
  optax: 'optax',
};

const SOFTMAX_FUNCTIONS = new Set(['torch.softmax', 'torch.nn.functional.softmax', 'torch.special.softmax', 'jax.nn.softmax', 'tensorflow.nn.softmax', 'tensorflow.math.softmax', 'keras.activations.softmax', 'scipy.special.softmax']);
const LOG_SOFTMAX_FUNCTIONS = new Set(['torch.log_softmax', 'torch.nn.functional.log_softmax', 'torch.special.log_softmax', 'jax.nn.log_softmax', 'tensorflow.nn.log_softmax', 'tensorflow.math.log_softmax', 'scipy.special.log_softmax']);
const SIGMOID_FUNCTIONS = new Set(['torch.sigmoid', 'torch.nn.functional.sigmoid', 'torch.special.expit', 'jax.nn.sigmoid', 'tensorflow.sigmoid', 'tensorflow.nn.sigmoid', 'tensorflow.math.sigmoid', 'keras.activations.sigmoid', 'scipy.special.expit']);
const LOG_SIGMOID_FUNCTIONS = new Set(['torch.nn.functional.logsigmoid', 'jax.nn.log_sigmoid', 'tensorflow.math.log_sigmoid']);
const LOG_FUNCTIONS = new Set(['torch.log', 'numpy.log', 'jax.numpy.log', 'tensorflow.math.log', 'tensorflow.log', 'math.log', 'keras.ops.log']);
const MODULE_BASES = new Set(['torch.nn.Module', 'pytorch_lightning.LightningModule', 'lightning.pytorch.LightningModule', 'lightning.LightningModule', 'keras.Model', 'keras.models.Model', 'flax.linen.Module']);
const FLOAT_DTYPES = /(^|\.)(float|float16|float32|float64|half|double|bfloat16|FloatTensor|DoubleTensor|HalfTensor)$|^['"]float(16|32|64)?['"]$/;
const INT_DTYPES = /(^|\.)(long|int|int8|int16|int32|int64|uint8|LongTensor|IntTensor)$|^['"]u?int(8|16|32|64)?['"]$/;
/** nn.Module methods that return the module itself. */
const MODULE_SELF_METHODS = new Set(['to', 'cuda', 'cpu', 'train', 'eval', 'float', 'double', 'half', 'bfloat16', 'requires_grad_', 'type', 'share_memory', 'apply', 'to_empty']);
const MAX_CALL_DEPTH = 8;
/** Loops nested deeper than this are evaluated once, so that re-evaluation cannot grow exponentially with nesting. */
const MAX_RERUN_LOOP_DEPTH = 2;
/** Deeper expressions (10,000 nested parentheses) evaluate to unknown instead of overflowing the stack. */
const MAX_EXPRESSION_DEPTH = 150;
const MAX_EVALUATIONS_PER_FUNCTION = 12;

function frameworkOfPath(path: string): Framework {
  if (path.startsWith('torch')) return 'pytorch';
  if (path.startsWith('keras')) return 'keras';
  if (path.startsWith('jax') || path.startsWith('optax')) return 'jax';
  return 'tensorflow';
}

function origin(node: PyNode, message: string, removal?: NodeEdit[]): Origin {
  return removal ? { node, message, removal } : { node, message };
}

function replaceNode(node: PyNode, newText: string): NodeEdit {
  return { node, start: node.start, end: node.end, newText };
}

/** Deletes one element of an argument list or list literal together with the comma that separates it. */
function deleteListElement(element: PyNode): NodeEdit {
  const container = element.parent!;
  const elements = namedChildren(container);
  const index = elements.indexOf(element);
  if (elements.length === 1) return { node: element, start: element.start, end: element.end, newText: '' };
  if (index > 0) return { node: element, start: elements[index - 1].end, end: element.end, newText: '' };
  return { node: element, start: element.start, end: elements[1].start, newText: '' };
}

/** Deletes a whole statement line (`model.add(Softmax())`). */
function deleteStatementLine(statement: PyNode): NodeEdit {
  const text = statement.unit.text;
  const lineStart = text.lastIndexOf('\n', statement.start - 1) + 1;
  const newline = text.indexOf('\n', statement.end);
  return { node: statement, start: lineStart, end: newline < 0 ? text.length : newline + 1, newText: '' };
}

/** The content of a plain string literal (strings are leaves of the copied tree); undefined for f-strings with fields. */
function stringLiteral(node: PyNode | undefined): string | undefined {
  if (!node || node.type !== 'string') return undefined;
  const match = /^([rRbBuUfF]{0,2})('''|"""|'|")([\s\S]*)\2$/.exec(textOf(node));
  if (!match) return undefined;
  if (/[fF]/.test(match[1]) && match[3].includes('{')) return undefined;
  return match[3];
}

function withLossOf(facts: TensorFacts, ...values: Value[]): TensorFacts {
  const losses = values.flatMap((v) => factsOf(v).lossOf ?? []);
  if (losses.length > 0) facts.lossOf = [...new Set(losses)];
  return facts;
}

export class Evaluator {
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
  private truncated = false;
  /** An unexpected exception that stopped the evaluation (kept for debugging; the result is flagged truncated). */
  internalError: unknown;

  constructor(
    private readonly units: ParsedText[],
    private readonly deadline: number,
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
    return { units: this.units, lossCalls: this.lossCalls, lossObjects: this.lossObjects, events: this.events, truncated: this.truncated, moduleScope: bindingsOf(this.moduleEnv) };
  }

  private tick(): void {
    // Checking the clock costs more than a statement; look every 256 steps.
    if ((++this.steps & 255) === 0 && Date.now() > this.deadline) throw new BudgetExceeded();
  }

  /** Functions and methods nobody called are evaluated once with unknown arguments, so their own bugs are found. */
  private evaluateUncalled(): void {
    for (let i = 0; i < this.functions.length; i++) {
      const fn = this.functions[i];
      if (fn.evaluations > 0) continue;
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
        for (const item of clause ? namedChildren(clause) : []) {
          const value = child(item, 'value');
          if (!value) continue;
          if (value.type === 'as_pattern') {
            const [expression] = namedChildren(value);
            const bound = expression ? this.evalExpr(expression, env) : UNKNOWN;
            const alias = child(value, 'alias');
            if (alias) this.assign(namedChildren(alias)[0] ?? alias, bound, env);
          } else this.evalExpr(value, env);
        }
        const body = child(node, 'body');
        return body ? this.execBlock(body, env) : env;
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
          env.vars.set(textOf(child(name, 'alias')!), { kind: 'ref', path: normalizePath(path) });
        } else {
          const path = textOf(name).replace(/\s+/g, '');
          // `import torch.nn` binds `torch`.
          const top = path.split('.')[0];
          env.vars.set(top, { kind: 'ref', path: normalizePath(top) });
        }
      }
      return;
    }
    if (node.type !== 'import_from_statement') return;
    const moduleNode = child(node, 'module_name');
    if (!moduleNode || moduleNode.type === 'relative_import') return;
    const modulePath = textOf(moduleNode).replace(/\s+/g, '');
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
      isModule: bases.some((b) => (b.kind === 'ref' && MODULE_BASES.has(b.path)) || (b.kind === 'class' && b.isModule)),
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

  private invoke(fn: FunctionValue, self: Value | undefined, args: CallArguments): Value {
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
    try {
      const body = child(fn.node, 'body');
      if (body) this.execBlock(body, env);
    } finally {
      this.frames.pop();
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
        // `outputs["probs"] = ...` on a dict literal.
        const container = this.evalExpr(child(target, 'value')!, env);
        const keys = target.children.filter((c) => c.field === 'subscript');
        const key = keys.length === 1 ? stringLiteral(keys[0]) : undefined;
        if (container.kind === 'dict' && key !== undefined) container.entries.set(key, value);
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

  private addEvent(event: ExpressionEvent): void {
    if (this.eventNodes.has(event.node)) return;
    this.eventNodes.add(event.node);
    this.events.push(event);
  }

  private lookup(name: string, env: Env): Value {
    let value = lookupIn(env, name);
    for (let scope = env.closure; value === undefined && scope; scope = scope.closure) value = lookupIn(scope, name);
    value ??= lookupIn(this.moduleEnv, name);
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
        if (attr === 'data') return tensor({ ...object.facts, detached: { value: true, origins: [origin(node, '`.data` is cut from the graph')] } });
        if (attr === 'T' || attr === 'mT') return tensor({ score: object.facts.score, dtype: object.facts.dtype });
        return UNKNOWN;
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

  private evalSubscript(node: PyNode, env: Env): Value {
    const valueNode = child(node, 'value');
    if (!valueNode) return UNKNOWN;
    const value = this.evalExpr(valueNode, env);
    const subscripts = node.children.filter((c) => c.field === 'subscript');
    for (const s of subscripts) if (s.type !== 'slice') this.evalExpr(s, env);
    if (value.kind === 'dict') {
      const key = subscripts.length === 1 ? stringLiteral(subscripts[0]) : undefined;
      return (key !== undefined && value.entries.get(key)) || UNKNOWN;
    }
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
    const lf = factsOf(left);
    const rf = factsOf(right);
    const facts = withLossOf({}, left, right);
    if (operator === '*') {
      const logSide = lf.logOfProbabilities ?? rf.logOfProbabilities;
      // `p * log(p)` is an entropy (a regulariser or a metric), not a cross-entropy against a target.
      const otherSide = lf.logOfProbabilities ? rf : lf;
      if (logSide && otherSide.score?.value !== 'probabilities') facts.crossEntropyTerm = { value: true, origins: logSide.origins, reduced: false };
    }
    if ((operator === '*' || operator === '/') && !facts.crossEntropyTerm) {
      // Scaling a cross-entropy term (`/ batch_size`, `* weight`) keeps it one.
      const term = lf.crossEntropyTerm ?? (operator === '*' ? rf.crossEntropyTerm : undefined);
      if (term) facts.crossEntropyTerm = term;
    }
    if (operator === '+' || operator === '-') {
      if (lf.crossEntropyTerm && rf.crossEntropyTerm) facts.crossEntropyTerm = { ...lf.crossEntropyTerm, origins: [...lf.crossEntropyTerm.origins, ...rf.crossEntropyTerm.origins] };
      // `p + eps`, `1 - p`: still probabilities (of the same activation) for the log rules.
      const constantLeft = left.kind === 'number';
      const constantRight = right.kind === 'number';
      if (constantRight && lf.score?.value === 'probabilities') facts.score = lf.score;
      if (constantLeft && rf.score?.value === 'probabilities') facts.score = rf.score;
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

  private argument(args: CallArguments, index: number, ...names: string[]): ArgumentFacts | undefined {
    for (const name of names) {
      const keyword = args.keywords.get(name);
      if (keyword) return keyword;
    }
    return args.positional[index];
  }

  private evalCall(node: PyNode, env: Env): Value {
    const fnNode = child(node, 'function');
    if (!fnNode) return UNKNOWN;
    const args = this.evalArguments(child(node, 'arguments'), env);
    if (fnNode.type === 'attribute') {
      const receiverNode = child(fnNode, 'object')!;
      const method = textOf(child(fnNode, 'attribute')!);
      const receiver = this.evalExpr(receiverNode, env);
      if (receiver.kind === 'ref') {
        const path = normalizePath(`${receiver.path}.${method}`);
        const known = this.callPath(path, args, node, fnNode, env);
        if (known) return known;
        if (receiver.path.includes('()')) return this.callMethod(UNKNOWN, receiverNode, method, args, node);
        return { kind: 'ref', path: `${path}()` };
      }
      if (receiver.kind === 'instance' && KERAS_MODEL_METHODS.has(method) && !this.findMethod(receiver.cls, method) && isKerasModelClass(receiver.cls)) {
        return this.callLayerMethod(this.kerasModelOf(receiver), method, args, node);
      }
      if (receiver.kind === 'instance' || receiver.kind === 'class') {
        const attribute = this.attributeOf(receiver, method, fnNode);
        // `Net().to(device)`, `model.train()`: nn.Module methods that return the module itself.
        if (attribute.kind === 'unknown' && receiver.kind === 'instance' && MODULE_SELF_METHODS.has(method)) return receiver;
        return this.callValue(attribute, args, node, fnNode, env);
      }
      if (receiver.kind === 'loss' && MODULE_SELF_METHODS.has(method)) return receiver;
      if (receiver.kind === 'layer') return this.callLayerMethod(receiver, method, args, node);
      if (receiver.kind === 'dict') {
        const key = method === 'get' || method === 'pop' ? args.positional[0]?.value : undefined;
        return (key?.kind === 'string' && receiver.entries.get(key.value)) || UNKNOWN;
      }
      return this.callMethod(receiver, receiverNode, method, args, node);
    }
    const callee = this.evalExpr(fnNode, env);
    return this.callValue(callee, args, node, fnNode, env);
  }

  private callValue(callee: Value, args: CallArguments, node: PyNode, fnNode: PyNode, env: Env): Value {
    switch (callee.kind) {
      case 'ref': {
        const known = this.callPath(callee.path, args, node, fnNode, env);
        if (known) return known;
        return callee.path.includes('()') ? UNKNOWN : { kind: 'ref', path: `${callee.path}()` };
      }
      case 'layer':
        return this.applyLayer(callee, args.positional[0]?.value ?? UNKNOWN, node, args.positional[0]?.node);
      case 'loss':
        return this.recordModuleLoss(callee, args, node, fnNode);
      case 'function':
        return this.invoke(callee, undefined, args);
      case 'bound-method':
        return this.invoke(callee.fn, callee.self, args);
      case 'class':
        return this.instantiate(callee, args);
      case 'instance': {
        const forward = this.findMethod(callee.cls, 'forward') ?? this.findMethod(callee.cls, '__call__') ?? (callee.cls.isModule ? this.findMethod(callee.cls, 'call') : undefined);
        return forward ? this.invoke(forward, callee, args) : UNKNOWN;
      }
      default:
        if (callee.kind === 'unknown' && fnNode.type === 'identifier') {
          const iterated = iterationBuiltin(textOf(fnNode), args.positional[0]?.value ?? UNKNOWN);
          if (iterated) return iterated;
        }
        for (const argument of args.positional) this.markIfBackward(argument.value, fnNode);
        return UNKNOWN;
    }
  }

  /** What iterating a dataset yields: a known dataset's samples, or `__getitem__` of a user `Dataset` class. */
  private samplesOf(dataset: Value): IterableValue | undefined {
    if (dataset.kind === 'iterable') return dataset;
    if (dataset.kind !== 'instance') return undefined;
    const getItem = this.findMethod(dataset.cls, '__getitem__');
    if (!getItem) return undefined;
    return { kind: 'iterable', element: this.invoke(getItem, dataset, { positional: [{ value: UNKNOWN }], keywords: new Map() }) };
  }

  /** Applying a layer (or a model made of layers); activation layers called directly can be dropped at the call. */
  private applyLayer(layer: LayerValue, input: Value, call: PyNode | undefined, inputNode: PyNode | undefined): Value {
    const output = layer.apply(input, call);
    const score = factsOf(output).score;
    if (call && inputNode && score && score.origins.length === 1 && score.origins[0].node === layer.node && LAYER_ACTIVATIONS.has(layer.path)) {
      const removal = [replaceNode(call, textOf(inputNode))];
      return tensor({ ...factsOf(output), score: { ...score, origins: [{ ...score.origins[0], removal }] } });
    }
    return output;
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

  private markBackpropagated(value: Value): void {
    for (const site of factsOf(value).lossOf ?? []) site.backpropagated = true;
  }

  // ---------------------------------------------------------------- layers

  private callLayerMethod(layer: LayerValue, method: string, args: CallArguments, node: PyNode): Value {
    if (MODULE_SELF_METHODS.has(method)) return layer;
    if (method === 'add' && layer.layers) {
      const added = args.positional[0];
      if (added?.value.kind === 'layer') {
        const statement = node.parent?.type === 'expression_statement' ? node.parent : undefined;
        layer.layers.push(statement && LAYER_ACTIVATIONS.has(added.value.path) ? withRemoval(added.value, deleteStatementLine(statement)) : added.value);
      } else layer.layers.push(unknownLayer(node));
      return UNKNOWN;
    }
    if (method === 'compile') {
      this.recordKerasCompile(layer, args, node);
      return UNKNOWN;
    }
    if (method === 'fit' || method === 'train_on_batch') {
      const compiled = layer.keras?.compiled;
      const target = this.argument(args, 1, 'y');
      if (compiled) {
        compiled.backpropagated = true;
        if (!compiled.target && target) compiled.target = target;
      }
      return UNKNOWN;
    }
    if (method === 'forward' || method === '__call__' || method === 'predict' || method === 'call') {
      const input = args.positional[0];
      return this.applyLayer(layer, input?.value ?? UNKNOWN, method === 'predict' ? undefined : node, input?.node);
    }
    return UNKNOWN;
  }

  private recordKerasCompile(model: LayerValue, args: CallArguments, node: PyNode): void {
    const lossArgument = args.keywords.get('loss') ?? args.positional[1];
    if (!lossArgument?.node) return;
    let loss: LossValue | undefined;
    const value = lossArgument.value;
    if (value.kind === 'loss') loss = value;
    else if (value.kind === 'string') {
      const spec = KERAS_STRING_LOSSES.get(value.value);
      if (spec) loss = { kind: 'loss', spec, node: value.node, nameNode: value.node, options: new Map() };
    } else if (value.kind === 'ref') {
      const spec = LOSS_FUNCTIONS.get(value.path);
      if (spec && spec.framework === 'keras') loss = { kind: 'loss', spec, node: lossArgument.node, nameNode: lossArgument.node, options: new Map() };
    }
    if (!loss) return;
    const keywordNode = args.keywords.get('loss')?.keywordNode ?? lossArgument.node;
    model.keras ??= {};
    const output = this.applyLayer(model, UNKNOWN, undefined, undefined);
    const site: LossCallFacts = {
      spec: loss.spec,
      style: 'keras-compile',
      call: node,
      lossObject: loss,
      callee: loss.nameNode,
      input: { value: output },
      options: new Map(loss.options),
      expects: this.expectation(loss.spec, loss.options),
      inputReportNode: keywordNode,
      model,
      backpropagated: false,
    };
    model.keras.compiled = site;
    this.lossCalls.push(site);
  }

  // ---------------------------------------------------------------- losses

  private expectation(spec: LossSpec, options: Map<string, ArgumentFacts>): Expectation | undefined {
    if (spec.expects !== 'from-logits') return spec.expects;
    const flag = options.get('from_logits');
    if (!flag) return 'probabilities';
    if (flag.value.kind === 'bool') return flag.value.value ? 'logits' : 'probabilities';
    return undefined;
  }

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
    const input = this.argument(args, spec.inputArg[0], spec.inputArg[1]);
    const target = this.argument(args, spec.targetArg[0], spec.targetArg[1]);
    const site: LossCallFacts = {
      spec,
      style,
      call: node,
      lossObject,
      callee: fnNode,
      input,
      target,
      options,
      expects: this.expectation(spec, options),
      inputReportNode: input?.node ?? node,
      backpropagated: false,
    };
    this.lossCalls.push(site);
    return tensor({ lossOf: [site] });
  }

  // ---------------------------------------------------------------- known functions

  private scoreFacts(kind: ScoreKind, activation: Activation, origins: Origin[], base: TensorFacts = {}): TensorFacts {
    const facts: TensorFacts = { score: { value: kind, activation, origins } };
    if (base.lastDim) facts.lastDim = base.lastDim;
    if (base.rank) facts.rank = base.rank;
    if (base.lossOf) facts.lossOf = base.lossOf;
    return facts;
  }

  /** `softmax(x, dim)` in any spelling: the result is probabilities; without `dim` it is a PyTorch deprecation. */
  private applyActivation(activation: 'softmax' | 'sigmoid' | 'log_softmax' | 'log_sigmoid', input: ArgumentFacts | undefined, call: PyNode, framework: Framework, hasDim: boolean): Value {
    // Dropping the activation replaces the call by its input (a `dtype=` given to it goes too: the loss casts anyway).
    const removal = input?.node ? [replaceNode(call, textOf(input.node))] : undefined;
    const base = factsOf(input?.value ?? UNKNOWN);
    if ((activation === 'softmax' || activation === 'log_softmax') && !hasDim && framework === 'pytorch') {
      this.addEvent({ kind: 'softmax-without-dim', node: call, framework, origins: [] });
    }
    const messages = { softmax: 'softmax applied here', sigmoid: 'sigmoid applied here', log_softmax: 'log_softmax applied here', log_sigmoid: 'logsigmoid applied here' };
    const kind: ScoreKind = activation === 'softmax' || activation === 'sigmoid' ? 'probabilities' : 'log-probabilities';
    return tensor(this.scoreFacts(kind, activation, [origin(call, messages[activation], removal)], base));
  }

  /** `log(p)`: of softmax/sigmoid probabilities it is a log-of-softmax / log-of-sigmoid expression. */
  private applyLog(input: ArgumentFacts | undefined, call: PyNode, framework: Framework, env: Env | undefined): Value {
    const facts = factsOf(input?.value ?? UNKNOWN);
    const score = facts.score;
    if (!score || score.value !== 'probabilities') return tensor(withLossOf({}, input?.value ?? UNKNOWN));
    const complement = input?.node ? isComplement(input.node) : false;
    if (score.activation === 'softmax') {
      const fix = input?.node ? this.logSoftmaxFix(call, input.node, score.origins) : undefined;
      this.addEvent({ kind: 'log-of-softmax', node: call, framework, origins: score.origins, fix });
      return tensor({
        score: { value: 'log-probabilities', activation: 'log_softmax', origins: score.origins },
        logOfProbabilities: { value: true, origins: score.origins },
        lastDim: facts.lastDim,
      });
    }
    if (score.activation === 'sigmoid') {
      const fix = input?.node ? this.logSigmoidFix(call, input.node, complement, env) : undefined;
      this.addEvent({ kind: 'log-of-sigmoid', node: call, framework, origins: score.origins, fix, complement });
      return tensor({ logOfProbabilities: { value: true, origins: score.origins } });
    }
    return tensor({});
  }

  /** `torch.log(F.softmax(x, dim=1))` → `F.log_softmax(x, dim=1)`: only when the softmax call is the log's direct argument. */
  private logSoftmaxFix(logCall: PyNode, inputNode: PyNode, origins: Origin[]): NodeEdit[] | undefined {
    const inner = unparenthesize(inputNode);
    if (inner.type !== 'call' || origins.length !== 1 || origins[0].node !== inner) return undefined;
    const callee = child(inner, 'function');
    if (!callee) return undefined;
    const calleeText = textOf(callee);
    if (!/softmax$/.test(calleeText)) return undefined;
    const renamed = calleeText.replace(/softmax$/, 'log_softmax');
    return [replaceNode(logCall, renamed + textOf(inner).slice(calleeText.length))];
  }

  private logSigmoidFix(logCall: PyNode, inputNode: PyNode, complement: boolean, env: Env | undefined): NodeEdit[] | undefined {
    let inner = unparenthesize(inputNode);
    if (complement) inner = unparenthesize(child(inner, 'right')!);
    if (inner.type !== 'call') return undefined;
    const argsNode = child(inner, 'arguments');
    const callee = child(inner, 'function');
    if (!argsNode || !callee) return undefined;
    let argumentText: string;
    const receiverOfMethod = callee.type === 'attribute' && textOf(child(callee, 'attribute')!) === 'sigmoid' && namedChildren(argsNode).length === 0;
    if (receiverOfMethod) argumentText = textOf(child(callee, 'object')!);
    else {
      const args = namedChildren(argsNode);
      if (args.length !== 1 || args[0].type === 'keyword_argument') return undefined;
      argumentText = textOf(args[0]);
    }
    const spelling = this.logSigmoidSpelling(env);
    if (!spelling) return undefined;
    const operand = complement ? (/^[\w.]+$/.test(argumentText) ? `-${argumentText}` : `-(${argumentText})`) : argumentText;
    return [replaceNode(logCall, `${spelling}(${operand})`)];
  }

  /** How to spell PyTorch's logsigmoid with the names this program has bound (`F.logsigmoid`, `torch.nn.functional.logsigmoid`). */
  private logSigmoidSpelling(env: Env | undefined): string | undefined {
    const scopes = [env ? bindingsOf(env) : undefined, env?.closure ? bindingsOf(env.closure) : undefined, bindingsOf(this.moduleEnv)];
    for (const scope of scopes) {
      for (const [name, value] of scope ?? []) {
        if (value.kind !== 'ref') continue;
        if (value.path === 'torch.nn.functional') return `${name}.logsigmoid`;
      }
    }
    for (const scope of scopes) for (const [name, value] of scope ?? []) if (value.kind === 'ref' && value.path === 'torch') return `${name}.nn.functional.logsigmoid`;
    return undefined;
  }

  /** Calls to things reached through imports; undefined when the path is not one the engine knows. */
  private callPath(path: string, args: CallArguments, node: PyNode, fnNode: PyNode, env: Env): Value | undefined {
    const framework = frameworkOfPath(path);
    const first = args.positional[0];
    if (SOFTMAX_FUNCTIONS.has(path) || LOG_SOFTMAX_FUNCTIONS.has(path)) {
      const input = this.argument(args, 0, 'input', 'x', 'logits');
      const hasDim = args.positional.length > 1 || args.keywords.has('dim') || args.keywords.has('axis');
      return this.applyActivation(SOFTMAX_FUNCTIONS.has(path) ? 'softmax' : 'log_softmax', input, node, framework, hasDim);
    }
    if (SIGMOID_FUNCTIONS.has(path)) return this.applyActivation('sigmoid', this.argument(args, 0, 'input', 'x'), node, framework, true);
    if (LOG_SIGMOID_FUNCTIONS.has(path)) return this.applyActivation('log_sigmoid', this.argument(args, 0, 'input', 'x'), node, framework, true);
    if (LOG_FUNCTIONS.has(path)) return this.applyLog(this.argument(args, 0, 'input', 'x'), node, framework, env);
    const lossClass = LOSS_CLASSES.get(path);
    if (lossClass) {
      const loss: LossValue = { kind: 'loss', spec: lossClass, node, nameNode: fnNode, options: this.optionsOf(lossClass, args, 0) };
      this.lossObjects.push(loss);
      return loss;
    }
    // `loss_lens.watch(criterion)` captures calls and passes them through: it is the loss it wraps.
    if (path === 'loss_lens.watch') return first?.value ?? UNKNOWN;
    const lossFunction = LOSS_FUNCTIONS.get(path);
    if (lossFunction) return this.recordLoss(lossFunction, 'function', args, node, fnNode, this.optionsOf(lossFunction, args, 2));
    const layer = this.makeLayer(path, args, node);
    if (layer) return layer;
    const created = this.tensorConstructor(path, args, node);
    if (created) return created;
    const dataset = path === 'torch.utils.data.TensorDataset' ? tensorDataset(args.positional.map((a) => a.value)) : datasetOf(path, node);
    if (dataset) return dataset;
    if (path === 'torch.utils.data.DataLoader') {
      const samples = this.samplesOf(this.argument(args, 0, 'dataset')?.value ?? UNKNOWN);
      if (samples) return loaderOver(samples);
    }
    const stopped = stopGradientOf(path, first?.value, node);
    if (stopped) return stopped;
    switch (path) {
      case 'torch.argmax':
      case 'jax.numpy.argmax':
      case 'numpy.argmax':
      case 'tensorflow.argmax':
      case 'tensorflow.math.argmax':
        return predictedLabels(node, 'argmax of the scores', 'int');
      case 'torch.max':
        if (args.positional.length >= 2 || args.keywords.has('dim')) return { kind: 'tuple', items: [tensor({}), predictedLabels(node, '`max(..)[1]`: predicted labels', 'int')] };
        return tensor({});
      case 'torch.round':
      case 'numpy.round':
      case 'tensorflow.round':
      case 'tensorflow.math.round':
        return predictedLabels(node, 'rounded predictions', 'float');
      case 'torch.sum':
      case 'torch.mean':
      case 'numpy.sum':
      case 'numpy.mean':
      case 'jax.numpy.sum':
      case 'jax.numpy.mean':
      case 'tensorflow.reduce_sum':
      case 'tensorflow.reduce_mean':
      case 'tensorflow.math.reduce_sum':
      case 'tensorflow.math.reduce_mean':
        return reduce(first?.value ?? UNKNOWN);
      case 'torch.autograd.grad':
      case 'torch.autograd.backward':
        if (first) this.markBackpropagated(first.value);
        return UNKNOWN;
      case 'jax.grad':
      case 'jax.value_and_grad': {
        const fn = first?.value;
        if (fn?.kind === 'function') this.markBackpropagated(this.invoke(fn, undefined, { positional: [], keywords: new Map() }));
        return { kind: 'ref', path: `${path}()` };
      }
      case 'torch.nn.DataParallel':
      case 'torch.nn.parallel.DataParallel':
      case 'torch.nn.parallel.DistributedDataParallel':
      case 'torch.compile':
        // Wrappers that call the wrapped module's forward.
        return first?.value ?? UNKNOWN;
      case 'sklearn.preprocessing.MultiLabelBinarizer':
        return { kind: 'ref', path: 'sklearn.preprocessing.MultiLabelBinarizer()' };
      case 'sklearn.preprocessing.MultiLabelBinarizer().fit_transform':
      case 'sklearn.preprocessing.MultiLabelBinarizer().transform':
        return tensor({ encoding: { value: 'multi-hot', origins: [origin(node, 'multi-hot labels from MultiLabelBinarizer')] }, dtype: { value: 'int', origins: [origin(node, 'integer labels')] }, rank: { value: 2, origins: [] } });
      default:
        if (/\(\)\.(backward|manual_backward|gradient|minimize)$/.test(path) || /^(accelerate|lightning|pytorch_lightning)\b.*\.backward$/.test(path)) {
          for (const argument of args.positional) this.markBackpropagated(argument.value);
          return UNKNOWN;
        }
        if (/\(\)\.scale$/.test(path) && first) return first.value;
        return undefined;
    }
  }

  private tensorConstructor(path: string, args: CallArguments, node: PyNode): Value | undefined {
    const created = this.createTensor(path, args, node);
    if (created?.kind !== 'tensor') return created;
    const root = rootOf(path);
    const library = root === 'numpy' ? 'numpy' : root === 'torch' ? 'torch' : root === 'jax' ? 'jax' : root === 'tensorflow' ? 'tensorflow' : undefined;
    if (library) created.facts.library = { value: library, origins: [origin(node, `${library === 'numpy' ? 'a NumPy array' : `a ${library} tensor`} created here`)] };
    return created;
  }

  private createTensor(path: string, args: CallArguments, node: PyNode): Value | undefined {
    const root = rootOf(path);
    if (!ARRAY_LIBRARIES.has(root) && !ONE_HOT_FUNCTIONS.has(path)) return undefined;
    const last = path.slice(path.lastIndexOf('.') + 1);
    const dtypeFact = (fallback: DType | undefined, at: PyNode): TensorFacts['dtype'] => explicitDtypeFact(args) ?? (fallback ? { value: fallback, origins: [origin(at, `${fallback} tensor created here`)] } : undefined);
    if (ARRAY_LIBRARIES.has(root)) {
      if (['tensor', 'as_tensor', 'array', 'asarray', 'constant', 'convert_to_tensor', 'Tensor', 'FloatTensor', 'LongTensor', 'DoubleTensor', 'IntTensor', 'from_numpy'].includes(last)) {
        const data = args.positional[0];
        const literal = data ? literalFacts(data.value) : undefined;
        const literalNode = data && (data.value.kind === 'list' || data.value.kind === 'tuple') ? data.value.node ?? data.node : data?.node;
        const typed = last === 'FloatTensor' || last === 'DoubleTensor' ? 'float' : last === 'LongTensor' || last === 'IntTensor' ? 'int' : undefined;
        const facts: TensorFacts = { ...factsOf(data?.value ?? UNKNOWN) };
        delete facts.lossOf;
        if (literal) {
          if (literal.encoding) facts.encoding = { value: literal.encoding, origins: [origin(literalNode!, literal.rank === 1 ? 'class indices' : `${literal.encoding} rows`)] };
          facts.rank = { value: literal.rank, origins: [origin(literalNode!, 'literal shape')] };
          if (literal.lastDim !== undefined) facts.lastDim = { value: literal.lastDim, origins: [origin(literalNode!, 'literal shape')] };
        }
        if (typed) facts.dtype = { value: typed, origins: [origin(node, `${last} is ${typed === 'float' ? 'a float' : 'an integer'} tensor`)] };
        else {
          const dtype = dtypeFact(literal?.dtype, literalNode ?? node);
          if (dtype) facts.dtype = dtype;
        }
        return tensor(facts);
      }
      if (last === 'randint') {
        const sizeArgument = this.argument(args, args.positional.length >= 3 ? 2 : 1, 'size');
        const facts: TensorFacts = {
          encoding: { value: 'class-indices', origins: [origin(node, 'class indices')] },
          dtype: dtypeFact('int', node),
        };
        const shape = sizeArgument?.value.kind === 'tuple' || sizeArgument?.value.kind === 'list' ? sizeArgument.value.items : undefined;
        if (shape) {
          facts.rank = { value: shape.length, origins: [origin(node, 'shape given here')] };
          const lastSize = shape.at(-1);
          if (lastSize?.kind === 'number') facts.lastDim = { value: lastSize.value, origins: [origin(node, 'shape given here')] };
        }
        return tensor(facts);
      }
      if (['eye', 'identity'].includes(last) && args.positional[0]?.value.kind === 'number') {
        const size = args.positional[0].value.value;
        return tensor({
          encoding: { value: 'one-hot', origins: [origin(node, `one-hot rows of an identity matrix (${size} classes)`)] },
          dtype: dtypeFact('float', node),
          lastDim: { value: size, origins: [origin(node, `${size} classes`)] },
        });
      }
      if (['ones', 'zeros', 'randn', 'rand', 'full', 'empty'].includes(last)) {
        const sizes = (args.positional.length === 1 || last === 'full') && (args.positional[0]?.value.kind === 'tuple' || args.positional[0]?.value.kind === 'list') ? (args.positional[0].value as { items: Value[] }).items : args.positional.slice(0, last === 'full' ? 1 : undefined).map((a) => a.value);
        const facts: TensorFacts = {};
        const dtype = dtypeFact(root === 'torch' || root === 'numpy' ? 'float' : undefined, node);
        if (dtype) facts.dtype = dtype;
        if (sizes.length > 0) {
          facts.rank = { value: sizes.length, origins: [origin(node, 'shape given here')] };
          const lastSize = sizes.at(-1);
          if (lastSize?.kind === 'number') facts.lastDim = { value: lastSize.value, origins: [origin(node, 'shape given here')] };
        }
        return tensor(facts);
      }
      if (['ones_like', 'zeros_like', 'rand_like', 'randn_like', 'full_like'].includes(last)) {
        const like = factsOf(args.positional[0]?.value ?? UNKNOWN);
        const facts: TensorFacts = {};
        if (like.rank) facts.rank = like.rank;
        if (like.lastDim) facts.lastDim = like.lastDim;
        if (like.trailingOne) facts.trailingOne = like.trailingOne;
        const dtype = dtypeFact(like.dtype?.value, node);
        if (dtype) facts.dtype = dtype;
        return tensor(facts);
      }
    }
    if (ONE_HOT_FUNCTIONS.has(path)) {
      const classes = this.argument(args, 1, 'num_classes', 'depth');
      const facts: TensorFacts = {
        encoding: { value: 'one-hot', origins: [origin(node, 'one-hot encoded here')] },
        dtype: { value: path === 'torch.nn.functional.one_hot' ? 'int' : 'float', origins: [origin(node, path === 'torch.nn.functional.one_hot' ? 'F.one_hot returns int64' : 'one-hot floats')] },
      };
      const inputRank = factsOf(args.positional[0]?.value ?? UNKNOWN).rank;
      if (inputRank) facts.rank = { value: inputRank.value + 1, origins: inputRank.origins };
      if (classes?.value.kind === 'number') facts.lastDim = { value: classes.value.value, origins: [origin(node, `${classes.value.value} classes`)] };
      return tensor(facts);
    }
    return undefined;
  }

  /** Methods on tensors (or on values of unknown type, which may be tensors). */
  private callMethod(receiver: Value, receiverNode: PyNode, method: string, args: CallArguments, node: PyNode): Value {
    const facts = factsOf(receiver);
    const dimGiven = args.positional.length > 0 || args.keywords.has('dim');
    switch (method) {
      case 'softmax':
      case 'log_softmax': {
        if (!dimGiven) this.addEvent({ kind: 'softmax-without-dim', node, framework: 'pytorch', origins: [] });
        return this.applyActivation(method, { node: receiverNode, value: receiver }, node, 'pytorch', true);
      }
      case 'sigmoid':
        return this.applyActivation('sigmoid', { node: receiverNode, value: receiver }, node, 'pytorch', true);
      case 'log':
        return this.applyLog({ node: receiverNode, value: receiver }, node, 'pytorch', undefined);
      case 'float':
      case 'double':
      case 'half':
      case 'bfloat16':
        return tensor({ ...facts, dtype: { value: 'float', origins: [origin(node, `cast to float by \`.${method}()\``)] }, lossOf: facts.lossOf });
      case 'long':
      case 'int':
      case 'short':
      case 'byte':
        return tensor({ ...facts, dtype: { value: 'int', origins: [origin(node, `cast to integer by \`.${method}()\``)] } });
      case 'bool':
        return tensor({ ...facts, dtype: { value: 'bool', origins: [origin(node, 'cast to bool')] } });
      case 'to':
      case 'type':
      case 'astype': {
        const dtypeArgument = args.keywords.get('dtype') ?? args.positional.find((a) => a.node && dtypeOfText(textOf(a.node)));
        const dtype = dtypeArgument?.node ? dtypeOfText(textOf(dtypeArgument.node)) : undefined;
        if (dtype) return tensor({ ...facts, dtype: { value: dtype, origins: [origin(node, `cast to ${dtype} by \`.${method}(${textOf(dtypeArgument!.node!)})\``)] } });
        return receiver.kind === 'tensor' ? receiver : tensor({});
      }
      case 'cuda':
      case 'cpu':
      case 'contiguous':
      case 'clone':
      case 'requires_grad_':
      case 'pin_memory':
        return receiver.kind === 'tensor' ? receiver : UNKNOWN;
      case 'detach':
      case 'item':
      case 'numpy':
      case 'tolist':
        return tensor({
          ...facts,
          detached: { value: true, origins: [origin(node, `\`.${method}()\` cuts the tensor from the graph`)] },
          ...(method === 'numpy' ? { library: { value: 'numpy' as const, origins: [origin(node, 'a NumPy array made here')] } } : {}),
        });
      case 'unsqueeze':
      case 'view':
      case 'reshape':
      case 'squeeze':
      case 'flatten':
      case 'ravel':
      case 'view_as':
      case 'reshape_as':
        return this.reshape(receiver, method, args, node);
      case 'argmax':
        return predictedLabels(node, 'argmax of the scores', 'int');
      case 'max':
        if (dimGiven) return { kind: 'tuple', items: [tensor({}), predictedLabels(node, '`max(..)[1]`: predicted labels', 'int')] };
        return tensor({});
      case 'round':
        return predictedLabels(node, 'rounded predictions', 'float');
      case 'sum':
      case 'mean':
        return reduce(receiver);
      case 'backward':
        this.markBackpropagated(receiver);
        return UNKNOWN;
      case 'clamp':
      case 'clip':
      case 'clamp_':
        return tensor({ score: facts.score, lossOf: facts.lossOf });
      default:
        for (const argument of args.positional) this.markIfBackward(argument.value, child(node, 'function')!);
        if (/^(scale)$/.test(method) && args.positional[0]) return args.positional[0].value;
        return receiver.kind === 'tensor' ? tensor(withLossOf({}, receiver)) : UNKNOWN;
    }
  }

  private reshape(receiver: Value, method: string, args: CallArguments, node: PyNode): Value {
    const facts = { ...factsOf(receiver) };
    const argTexts = args.positional.map((a) => (a.node ? textOf(a.node).replace(/\s+/g, '') : '?'));
    const shapeArgs = argTexts.length === 1 && args.positional[0].value.kind === 'tuple' ? textOf(args.positional[0].node!).replace(/[\s()]/g, '').split(',').filter(Boolean) : argTexts;
    delete facts.trailingOne;
    delete facts.rank;
    delete facts.lastDim;
    const inputRank = factsOf(receiver).rank?.value;
    const addsTrailingOne =
      (method === 'unsqueeze' && (argTexts[0] === '1' && (inputRank === undefined || inputRank === 1) || argTexts[0] === '-1')) ||
      ((method === 'view' || method === 'reshape') && shapeArgs.length === 2 && shapeArgs[1] === '1');
    if (addsTrailingOne) {
      facts.trailingOne = { value: true, origins: [origin(node, `\`.${method}(${argTexts.join(', ')})\` makes the shape [N, 1]`)] };
      facts.rank = { value: 2, origins: [origin(node, 'shape [N, 1]')] };
      facts.lastDim = { value: 1, origins: [origin(node, 'shape [N, 1]')] };
    } else if ((method === 'view' || method === 'reshape') && shapeArgs.length === 1 && shapeArgs[0] === '-1') {
      facts.rank = { value: 1, origins: [origin(node, 'flattened')] };
    } else if (method === 'flatten' || method === 'ravel') {
      if (args.positional.length === 0) facts.rank = { value: 1, origins: [origin(node, 'flattened')] };
    } else if (method === 'squeeze') {
      const before = factsOf(receiver);
      if (before.trailingOne || before.rank?.value === 2) facts.rank = { value: 1, origins: [origin(node, 'squeezed')] };
    } else if (method === 'view_as' || method === 'reshape_as') {
      const like = factsOf(args.positional[0]?.value ?? UNKNOWN);
      if (like.rank) facts.rank = like.rank;
      if (like.lastDim) facts.lastDim = like.lastDim;
      if (like.trailingOne) facts.trailingOne = like.trailingOne;
    }
    return receiver.kind === 'tensor' || Object.keys(facts).length > 0 ? tensor(facts) : UNKNOWN;
  }

  // ---------------------------------------------------------------- layer constructors

  private makeLayer(path: string, args: CallArguments, node: PyNode): LayerValue | undefined {
    // Decided before anything is split or allocated: most calls the evaluator sees are not layer constructors.
    const isTorch = path.startsWith('torch.nn.') && path.indexOf('.', 'torch.nn.'.length) < 0;
    const isKeras = path.startsWith('keras.layers.') || path === 'keras.Sequential' || path === 'keras.models.Sequential' || path === 'keras.Model' || path === 'keras.models.Model';
    if (!isTorch && !isKeras) return undefined;
    const name = path.slice(path.lastIndexOf('.') + 1);
    const layer = (apply: LayerValue['apply']): LayerValue => ({ kind: 'layer', path, node, apply });
    const activationLayer = (activation: 'softmax' | 'sigmoid' | 'log_softmax' | 'log_sigmoid', message: string): LayerValue => {
      const kind: ScoreKind = activation === 'softmax' || activation === 'sigmoid' ? 'probabilities' : 'log-probabilities';
      return layer((input) => tensor({ ...this.scoreFacts(kind, activation, [origin(node, message)], factsOf(input)) }));
    };
    if (isTorch) {
      switch (name) {
        case 'Softmax':
        case 'LogSoftmax':
          if (args.positional.length === 0 && !args.keywords.has('dim')) this.addEvent({ kind: 'softmax-without-dim', node, framework: 'pytorch', origins: [] });
          return activationLayer(name === 'Softmax' ? 'softmax' : 'log_softmax', name === 'Softmax' ? 'nn.Softmax layer' : 'nn.LogSoftmax layer');
        case 'Sigmoid':
          return activationLayer('sigmoid', 'nn.Sigmoid layer');
        case 'LogSigmoid':
          return activationLayer('log_sigmoid', 'nn.LogSigmoid layer');
        case 'Linear':
        case 'LazyLinear':
        case 'Bilinear': {
          const outArgument = name === 'LazyLinear' ? this.argument(args, 0, 'out_features') : this.argument(args, name === 'Bilinear' ? 2 : 1, 'out_features');
          const outputs = outArgument?.value.kind === 'number' ? outArgument.value.value : undefined;
          return layer(() => {
            const facts: TensorFacts = { score: { value: 'logits', activation: 'none', origins: [origin(node, 'unbounded scores from a linear layer')] } };
            if (outputs !== undefined) facts.lastDim = { value: outputs, origins: [origin(node, `${outputs} output unit${outputs === 1 ? '' : 's'}`)] };
            return tensor(facts);
          });
        }
        case 'Dropout':
        case 'Identity':
        case 'Flatten':
        case 'AlphaDropout':
          return layer((input) => input);
        case 'Sequential': {
          const elements = args.positional.filter((a) => a.node && a.node.parent?.type === 'argument_list');
          const layers = elements.map((a) => {
            if (a.value.kind !== 'layer') return unknownLayer(node);
            return LAYER_ACTIVATIONS.has(a.value.path) ? withRemoval(a.value, deleteListElement(a.node!)) : a.value;
          });
          return sequential(path, node, layers);
        }
        default:
          if (/^Conv(Transpose)?[123]d$/.test(name)) return layer(() => tensor({ score: { value: 'logits', activation: 'none', origins: [origin(node, 'unbounded scores from a convolution')] } }));
          return layer(() => UNKNOWN);
      }
    }
    // Keras
    switch (name) {
      case 'Dense': {
        const unitsArgument = this.argument(args, 0, 'units');
        const units = unitsArgument?.value.kind === 'number' ? unitsArgument.value.value : undefined;
        const activationArgument = this.argument(args, 1, 'activation');
        const activation = activationArgument ? kerasActivation(activationArgument.value) : 'none';
        const removal = activationArgument?.node ? [deleteListElement(args.keywords.get('activation')?.keywordNode ?? activationArgument.node)] : undefined;
        return layer(() => {
          const facts: TensorFacts = {};
          if (activation === 'none') facts.score = { value: 'logits', activation: 'none', origins: [origin(node, 'Dense layer without activation: unbounded scores')] };
          else if (activation) {
            const kind: ScoreKind = activation === 'log_softmax' ? 'log-probabilities' : 'probabilities';
            facts.score = { value: kind, activation, origins: [origin(node, `Dense layer with activation="${activation}"`, removal)] };
          }
          if (units !== undefined) facts.lastDim = { value: units, origins: [origin(node, `${units} output unit${units === 1 ? '' : 's'}`)] };
          return tensor(facts);
        });
      }
      case 'Softmax':
        return activationLayer('softmax', 'Softmax layer');
      case 'Activation': {
        const activation = kerasActivation(args.positional[0]?.value ?? UNKNOWN);
        if (activation === 'softmax' || activation === 'sigmoid' || activation === 'log_softmax') return activationLayer(activation, `Activation("${activation}") layer`);
        if (activation === 'none') return layer((input) => input);
        return layer(() => UNKNOWN);
      }
      case 'Dropout':
      case 'Flatten':
      case 'InputLayer':
        return layer((input) => input);
      case 'Input':
        return undefined;
      case 'Sequential': {
        const list = this.argument(args, 0, 'layers');
        const layers: LayerValue[] = [];
        if (list && (list.value.kind === 'list' || list.value.kind === 'tuple') && list.node) {
          const elementNodes = namedChildren(list.node);
          list.value.items.forEach((item, i) => {
            if (item.kind !== 'layer') layers.push(unknownLayer(node));
            else layers.push(LAYER_ACTIVATIONS.has(item.path) && elementNodes[i] ? withRemoval(item, deleteListElement(elementNodes[i])) : item);
          });
        }
        const model = sequential(path, node, layers);
        model.keras = {};
        return model;
      }
      case 'Model': {
        const outputs = this.argument(args, 1, 'outputs');
        const output = outputs?.value ?? UNKNOWN;
        const model: LayerValue = { kind: 'layer', path, node, apply: () => output, keras: { output } };
        return model;
      }
      default:
        return layer(() => UNKNOWN);
    }
  }
}

/** Activation layers: dropped as a whole (from a `Sequential`, or at the call) by the softmax fixes. */
const LAYER_ACTIVATIONS = new Set(['torch.nn.Softmax', 'torch.nn.Sigmoid', 'torch.nn.LogSoftmax', 'keras.layers.Softmax', 'keras.layers.Activation']);

/** The first component of a dotted path (`torch` of `torch.nn.functional.softmax`). */
function rootOf(path: string): string {
  const dot = path.indexOf('.');
  return dot < 0 ? path : path.slice(0, dot);
}

function withRemoval(layer: LayerValue, edit: NodeEdit): LayerValue {
  return {
    ...layer,
    apply: (input, call) => {
      const output = layer.apply(input, call);
      const score = factsOf(output).score;
      if (!score || score.origins.length !== 1) return output;
      return tensor({ ...factsOf(output), score: { ...score, origins: [{ ...score.origins[0], removal: [edit] }] } });
    },
  };
}

function sequential(path: string, node: PyNode, layers: LayerValue[]): LayerValue {
  return {
    kind: 'layer',
    path,
    node,
    layers,
    apply: (input) => layers.reduce<Value>((value, layer) => layer.apply(value, undefined), input),
  };
}

function unknownLayer(node: PyNode): LayerValue {
  return { kind: 'layer', path: '?', node, apply: () => UNKNOWN };
}

const KERAS_MODEL_METHODS = new Set(['compile', 'fit', 'train_on_batch', 'predict']);

/** A class deriving (directly or through program classes) from `keras.Model`. */
function isKerasModelClass(cls: ClassValue, seen = new Set<ClassValue>()): boolean {
  if (seen.has(cls)) return false;
  seen.add(cls);
  return cls.bases.some((base) => (base.kind === 'ref' && (base.path === 'keras.Model' || base.path === 'keras.models.Model')) || (base.kind === 'class' && isKerasModelClass(base, seen)));
}

function kerasActivation(value: Value): Activation | undefined {
  if (value.kind === 'string') {
    if (value.value === 'softmax' || value.value === 'sigmoid' || value.value === 'log_softmax') return value.value;
    if (value.value === 'linear') return 'none';
    return undefined;
  }
  if (value.kind === 'ref') {
    if (SOFTMAX_FUNCTIONS.has(value.path)) return 'softmax';
    if (SIGMOID_FUNCTIONS.has(value.path)) return 'sigmoid';
    return undefined;
  }
  // `activation=None`
  return undefined;
}

const ARRAY_LIBRARIES = new Set(['torch', 'numpy', 'jax', 'tensorflow']);
const ONE_HOT_FUNCTIONS = new Set(['torch.nn.functional.one_hot', 'jax.nn.one_hot', 'tensorflow.one_hot', 'keras.utils.to_categorical', 'keras.ops.one_hot']);

/** `dtype=torch.float32` given to a constructor. */
function explicitDtypeFact(args: CallArguments): TensorFacts['dtype'] {
  const argument = args.keywords.get('dtype');
  const dtype = argument?.node ? dtypeOfText(textOf(argument.node)) : undefined;
  return dtype ? { value: dtype, origins: [origin(argument!.keywordNode, `dtype=${textOf(argument!.node!)}`)] } : undefined;
}

function predictedLabels(node: PyNode, message: string, dtype: DType): Value {
  return tensor({
    predictedLabels: { value: true, origins: [origin(node, message)] },
    encoding: dtype === 'int' ? { value: 'class-indices', origins: [origin(node, message)] } : undefined,
    dtype: { value: dtype, origins: [origin(node, message)] },
  });
}

function reduce(value: Value): Value {
  const facts = factsOf(value);
  if (facts.crossEntropyTerm) return tensor({ crossEntropyTerm: { ...facts.crossEntropyTerm, reduced: true }, lossOf: facts.lossOf });
  // A reduction of a NumPy array (`counts.sum()`) is still NumPy.
  return value.kind === 'tensor' ? tensor(withLossOf(facts.library ? { library: facts.library } : {}, value)) : UNKNOWN;
}

function dtypeOfText(text: string): DType | undefined {
  const compact = text.replace(/\s+/g, '');
  if (FLOAT_DTYPES.test(compact)) return 'float';
  if (INT_DTYPES.test(compact)) return 'int';
  if (/(^|\.)bool$/.test(compact)) return 'bool';
  return undefined;
}

function unparenthesize(node: PyNode): PyNode {
  while (node.type === 'parenthesized_expression' && namedChildren(node).length === 1) node = namedChildren(node)[0];
  return node;
}

/** `1 - p`. */
function isComplement(node: PyNode): boolean {
  const inner = unparenthesize(node);
  if (inner.type !== 'binary_operator') return false;
  const left = child(inner, 'left');
  const operator = child(inner, 'operator');
  return !!left && !!operator && textOf(operator) === '-' && /^1(\.0*)?$/.test(textOf(left));
}

interface LiteralFacts {
  rank: number;
  lastDim?: number;
  dtype: DType;
  encoding?: TargetEncoding;
}

/** What a literal (`[[1, 0, 1], [0, 1, 0]]`, possibly through a variable) says as a target: rank, width, dtype, encoding. */
function literalFacts(value: Value): LiteralFacts | undefined {
  if (value.kind !== 'list' && value.kind !== 'tuple') return undefined;
  const rows = value.items;
  if (rows.length === 0) return undefined;
  if (rows.every((r) => r.kind === 'number')) {
    const numbers = rows as { value: number; float: boolean }[];
    const float = numbers.some((n) => n.float);
    return { rank: 1, lastDim: rows.length, dtype: float ? 'float' : 'int', encoding: numbers.every((n) => Number.isInteger(n.value) && n.value >= 0) ? 'class-indices' : undefined };
  }
  if (!rows.every((r) => (r.kind === 'list' || r.kind === 'tuple') && r.items.length > 0 && r.items.every((c) => c.kind === 'number'))) return undefined;
  const matrix = rows.map((r) => (r as { items: { value: number; float: boolean }[] }).items);
  const width = matrix[0].length;
  const values = matrix.map((r) => r.map((c) => c.value));
  const float = matrix.some((r) => r.some((c) => c.float));
  let encoding: TargetEncoding | undefined;
  const binary = values.every((r) => r.every((v) => v === 0 || v === 1));
  if (binary) {
    const ones = values.map((r) => r.filter((v) => v === 1).length);
    if (ones.some((n) => n > 1)) encoding = 'multi-hot';
    else if (ones.every((n) => n === 1) && width > 1) encoding = 'one-hot';
  } else if (values.every((r) => r.every((v) => v >= 0 && v <= 1) && Math.abs(r.reduce((a, b) => a + b, 0) - 1) < 1e-6)) encoding = 'soft-labels';
  return { rank: 2, lastDim: matrix.every((r) => r.length === width) ? width : undefined, dtype: float ? 'float' : 'int', encoding };
}
