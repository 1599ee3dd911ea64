// Pharmacy's own settings, registered with the kit's schema when pharmacy loads.
export { PHARMACY_SETTINGS, parsePharmacySettings, pharmacySettings, type PharmacySettings } from './settings';
export { createPharmacyModule, type PharmacyOptions } from './module';
export { readNotifierOptions, readNotifierTiming, type NotifierOptions } from './outbox/settings';
export { seedDemo, seedScalePatient } from './seed';
export type { PharmacyContext } from './context';
export { pharmacyErrors } from './errors';
