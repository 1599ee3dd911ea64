import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';

/** schema.graphql beside src/ is the source of truth for this subgraph's SDL. */
export const typeDefs = parse(fs.readFileSync(path.join(__dirname, '..', 'schema.graphql'), 'utf8'));
