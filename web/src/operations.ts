/**
 * The contract's typed documents (schema/operations/*.graphql, typed by
 * `npm run codegen` into src/generated/operations.ts): the app sends only
 * these, so a gateway in trusted-documents mode answers it, and a change of
 * the contract that breaks the app breaks its type check.
 */
export * from './generated/operations';
