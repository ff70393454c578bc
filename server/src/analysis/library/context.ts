import type { PyNode } from '../../parse/tree';
import type {
  Activation,
  ArgumentFacts,
  CallArguments,
  ExpressionEvent,
  FunctionValue,
  IterableValue,
  LossCallFacts,
  Scope,
  Value,
} from '../values';

/**
 * The narrow interface between the interpreter (`evaluate.ts`) and the library models (this folder). A model never
 * walks the tree or touches scopes: it gets the evaluated arguments of a call and asks the interpreter, through this
 * context, for the few things only the interpreter can do.
 */
export interface LibraryContext {
  /** Records an expression-level observation (once per node) for the expression rules. */
  addEvent(event: ExpressionEvent): void;
  /** Records a loss application (Keras `compile`; module and functional losses are recorded by the interpreter). */
  recordLossCall(site: LossCallFacts): void;
  /** The loss calls whose results flow into `value` reach a gradient (`.backward()`, `jax.grad`, `fit`). */
  markBackpropagated(value: Value): void;
  /** Evaluates a program function (`jax.grad(loss_fn)`) with the given arguments. */
  invoke(fn: FunctionValue, self: Value | undefined, args: CallArguments): Value;
  /** What iterating a dataset yields: a known dataset's samples, or `__getitem__` of a program `Dataset` class. */
  samplesOf(dataset: Value): IterableValue | undefined;
  /**
   * The names visible where a call is written, innermost scope first (the call's scope when given, its closure, the
   * module): for fixes that must spell a function with the program's own imports (`F.logsigmoid`).
   */
  visibleBindings(scope: Scope | undefined): Map<string, Value>[];
  /** The activation a library function computes (`tf.nn.softmax` given as `activation=`), from the function tables. */
  activationOf(path: string): Activation | undefined;
}

/**
 * What calling a library function does: the value it returns, or undefined when the model has nothing to say about
 * this call (the interpreter then treats the result as an unknown value of that path). `scope` is where the call is
 * written (absent for method calls), only for spelling fixes.
 */
export type CallModel = (ctx: LibraryContext, args: CallArguments, node: PyNode, path: string, scope: Scope | undefined) => Value | undefined;

/** One row of a function table: how the call is evaluated, and (for activations) what it computes. */
export interface FunctionModel {
  call: CallModel;
  /**
   * The activation the function applies, for models that receive the function itself as a value
   * (`Dense(10, activation=tf.nn.softmax)`).
   */
  activation?: Activation;
}

/** An argument by position or by any of its keyword names (keywords win). */
export function argument(args: CallArguments, index: number, ...names: string[]): ArgumentFacts | undefined {
  for (const name of names) {
    const keyword = args.keywords.get(name);
    if (keyword) return keyword;
  }
  return args.positional[index];
}

export const NO_ARGUMENTS = (): CallArguments => ({ positional: [], keywords: new Map() });
