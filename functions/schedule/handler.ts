import { readConfig } from '../../adapters/config';
import { loadSecret } from '../../adapters/secret';
import { NotImplementedError } from '../../core/errors';
import { httpHandler } from '../shared/http';

const config = readConfig();

/** The schedule function. Until the scheduler issue lands it answers 501, honestly. */
export const handler = httpHandler(
  () => loadSecret(config),
  [
    {
      key: 'POST /schedule',
      run: async () => {
        throw new NotImplementedError('POST /schedule');
      },
    },
    {
      key: 'GET /decisions/{id}',
      run: async () => {
        throw new NotImplementedError('GET /decisions/{id}');
      },
    },
  ],
);
