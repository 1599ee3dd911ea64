import { createContext, useContext } from 'react';

/** How many times the session was renewed by signing in again: pages read their data again when it changes (their own state stays). */
export const Renewals = createContext(0);
export const useRenewals = (): number => useContext(Renewals);
