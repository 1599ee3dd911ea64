import type { MessageModel } from './mappers';

export const Message = {
  // A reference to identity's Practitioner: the gateway fetches the name from identity.
  practitioner: (m: MessageModel) => (m.senderRole === 'PRACTITIONER' ? { id: m.senderId } : null),
};
