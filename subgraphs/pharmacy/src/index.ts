export { createPharmacyModule, type PharmacyOptions } from './module';
export { readNotifierOptions, readNotifierTiming, type NotifierOptions } from './outbox/settings';
export { seedDemo, seedScalePatient } from './seed';
export type { PharmacyContext } from './context';
export { pharmacyErrors } from './errors';
