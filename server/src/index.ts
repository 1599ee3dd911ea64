export * from './stack';
export { startThreadedStack } from './stackThread';
export * from './signals';
export * from './services';
export * from './errorCodes';
export * from './webApp';
