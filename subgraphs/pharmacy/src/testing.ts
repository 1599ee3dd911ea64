/** The pharmacy test entry point (`@portal/pharmacy/testing`): its factories, for its own tests and the end-to-end ones. Never imported by production code. */
export * from './factories';
