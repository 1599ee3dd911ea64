export { createPharmacyModule } from './module';
export { seedDemo, seedScalePatient } from './seed';
export type { PharmacyContext } from './context';
