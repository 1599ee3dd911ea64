export { createClinicalRecordsModule } from './module';
export { seedDemo, seedScalePatient } from './seed';
export type { ClinicalContext } from './context';
