import type { MessageResolvers } from '../generated/graphql';

export const Message: MessageResolvers = {
  // A reference to identity's Practitioner: the gateway fetches the name from identity.
  practitioner: (m) => (m.senderRole === 'PRACTITIONER' ? { id: m.senderId } : null),
  // A reference to identity's Patient (the proxy): identity gives the name to whoever may see that person.
  writtenBy: (m) => (m.writtenByProxy ? { id: m.senderId } : null),
  // A reference to identity's ProxyAuthor: the proxy's name, for anyone who may read the patient's thread.
  proxyAuthor: (m) => (m.writtenByProxy ? { id: m.senderId, patientId: m.patientId } : null),
};
