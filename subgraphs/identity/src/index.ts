export { createIdentityModule } from './module';
export { seedDemo, seedScalePatient } from './seed';
export type { IdentityContext } from './context';
