export { createMessagingModule } from './module';
export { seedDemo, seedScalePatient } from './seed';
export type { MessagingContext } from './context';
export { messagingErrors } from './errors';
