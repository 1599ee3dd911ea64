export * from './stack';
export * from './signals';
export * from './services';
export * from './errorCodes';
export * from './webApp';
