/** Decoding a record's tensors lives with the engine (`server/src/captures/tensors.ts`): the CLI and the language server use it too. */
export * from '../../../server/src/captures/tensors';
