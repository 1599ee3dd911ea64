import type { MessageResolvers } from '../generated/graphql';

export const Message: MessageResolvers = {
  // A reference to identity's Practitioner: the gateway fetches the name from identity.
  practitioner: (m) => (m.senderRole === 'PRACTITIONER' ? { id: m.senderId } : null),
};
