export { createSchedulingModule } from './module';
export { seedDemo, seedScalePatient } from './seed';
export type { SchedulingContext } from './context';
export { schedulingErrors } from './errors';
