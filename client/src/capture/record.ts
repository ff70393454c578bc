/** The capture record lives with the engine (`server/src/captures/record.ts`): the CLI and the language server read it too. */
export * from '../../../server/src/captures/record';
