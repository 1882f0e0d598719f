// The Node CRM bridge: the bridge protocol (docs/bridge-protocol.md) over node:http, for
// the in-memory CRM of crm.mjs. Run it with `node bridge.mjs --port 8093`; see README.md.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import { Crm, PRIORITIES, phoneDigits } from './crm.mjs';
import { StateCodec } from './state.mjs';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 8093;
const DEFAULT_PAGE_SIZE = 10;
const LARGEST_BODY = 1024 * 1024;
const LOGO = new URL('./logo.svg', import.meta.url);

/** An answer other than 2xx, with the `message` the hub shows to the person. */
class Refusal extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const badRequest = (message) => new Refusal(400, message);

// --- reading the hub's requests --------------------------------------------------------

/** The key a field's path ends with: `offset` for `meta.offset`. */
const keyOf = (path) => path.split('.').at(-1);

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

function objectAt(parent, path, { required = false } = {}) {
  const value = parent[keyOf(path)];
  if (value === undefined && !required) {
    return {};
  }
  if (!isObject(value)) {
    throw badRequest(`${path} must be an object.`);
  }
  return value;
}

function stringAt(parent, path, { required = false } = {}) {
  const value = parent[keyOf(path)];
  if (value === undefined && !required) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw badRequest(`${path} must be a string.`);
  }
  return value;
}

/** An optional action input: a value left empty counts as none. */
function inputAt(data, key) {
  if (data[key] === undefined || data[key] === null) {
    return undefined;
  }
  const text = stringAt(data, `data.${key}`).trim();
  return text === '' ? undefined : text;
}

function stringsAt(parent, path, { required = false } = {}) {
  const value = parent[keyOf(path)];
  if (value === undefined && !required) {
    return [];
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw badRequest(`${path} must be an array of strings.`);
  }
  return value;
}

// --- what the bridge answers ------------------------------------------------------------

const contactAnswer = ({ id, name, company, title, emails, phones }) => ({
  id,
  name,
  company,
  title,
  emails,
  phones,
});

const interactionAnswer = ({ id, type, subject, description, priority, status, date, url }) => ({
  id,
  type,
  subject,
  description,
  priority,
  status,
  date: date.toISOString(),
  url,
});

function credentialsCheck(apiKey) {
  const digest = (text) => createHash('sha256').update(text).digest();
  const expected = digest(apiKey);
  return (auth) => {
    const given = auth.api_key;
    // Compared as digests, in constant time: the key's length and content stay unknown.
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
      throw new Refusal(401, 'This API key is not a key of this Node CRM.');
    }
  };
}

/** The protocol's endpoints, by path: each takes a request's body and gives its answer. */
function protocolEndpoints({ crm, apiKey, pageSize }) {
  const offsets = new StateCodec('offset');
  const checkpoints = new StateCodec('checkpoint');
  const checkCredentials = credentialsCheck(apiKey);

  function contactPage(body) {
    const meta = objectAt(body, 'meta');
    const checkpointText = stringAt(meta, 'meta.synchronization_checkpoint');
    const offsetText = stringAt(meta, 'meta.offset');
    let since = 0;
    if (checkpointText !== undefined) {
      const checkpoint = checkpoints.decode(checkpointText);
      if (checkpoint === undefined) {
        // Also what a checkpoint of an earlier process gets: its changes are gone. 410 has
        // the hub sync in full (protocol 6.3).
        const why = 'meta.synchronization_checkpoint is not one this bridge can use';
        throw new Refusal(410, `${why}; sync in full.`);
      }
      since = checkpoint.change;
    }
    // A run covers the changes after the checkpoint up to the latest one when it started;
    // later changes come with the next run.
    let run = { since, upTo: crm.latestChange, after: since };
    if (offsetText !== undefined) {
      const offset = offsets.decode(offsetText);
      if (offset === undefined || offset.since !== since) {
        throw badRequest('meta.offset is not a value this bridge gave for this run.');
      }
      run = offset;
    }
    const { after, upTo } = run;
    const changed = crm.changedContacts({ after, upTo, limit: pageSize + 1 });
    const contacts = changed.slice(0, pageSize);
    if (changed.length > pageSize) {
      const nextOffset = offsets.encode({ ...run, after: contacts.at(-1).change });
      return { contacts: contacts.map(contactAnswer), next_offset: nextOffset };
    }
    return {
      contacts: contacts.map(contactAnswer),
      synchronization_checkpoint: checkpoints.encode({ change: run.upTo }),
    };
  }

  function interactions(body) {
    const meta = objectAt(body, 'meta', { required: true });
    const types = stringsAt(meta, 'meta.interaction_types', { required: true });
    const data = objectAt(body, 'data', { required: true });
    stringAt(data, 'data.contact_name', { required: true });
    const known = crm.contact(stringAt(data, 'data.contact_external_id'));
    // A contact from elsewhere is matched on its emails and phones; a name alone is too
    // loose to show someone else's tickets.
    const contacts = known
      ? [known]
      : crm.contactsMatching({
          emails: stringsAt(data, 'data.contact_emails'),
          phones: stringsAt(data, 'data.contact_phones'),
        });
    const ids = contacts.map((contact) => contact.id);
    return crm.interactionsOf(ids, types).map(interactionAnswer);
  }

  /** The contact a new ticket is for, and whether the action had to create it. */
  function ticketContact(meta, data) {
    const contactId = stringAt(meta, 'meta.contact_external_id');
    if (contactId !== undefined) {
      const contact = crm.contact(contactId);
      if (contact === undefined) {
        throw badRequest(`meta.contact_external_id names no contact of this CRM: "${contactId}".`);
      }
      return { contact, created: false };
    }
    const callerPhone = inputAt(data, 'caller_phone');
    if (callerPhone === undefined) {
      throw badRequest(
        'A ticket needs a contact: run the action for a contact of this CRM, or give caller_phone.',
      );
    }
    if (phoneDigits(callerPhone).length < 3) {
      throw badRequest(`data.caller_phone must be a phone number; found "${callerPhone}".`);
    }
    const known = crm.contactWithPhone(callerPhone);
    if (known !== undefined) {
      return { contact: known, created: false };
    }
    const name = `Unknown caller ${callerPhone}`;
    const contact = crm.addContact({ name, phones: [callerPhone] });
    return { contact, created: true };
  }

  function createTicket(body) {
    const meta = objectAt(body, 'meta');
    const data = objectAt(body, 'data', { required: true });
    const subject = inputAt(data, 'subject');
    if (subject === undefined) {
      throw badRequest('data.subject is required: a ticket needs a subject.');
    }
    const priority = inputAt(data, 'priority') ?? 'normal';
    if (!PRIORITIES.includes(priority)) {
      const allowed = PRIORITIES.join(', ');
      throw badRequest(`data.priority must be one of ${allowed}; found "${priority}".`);
    }
    const { contact, created } = ticketContact(meta, data);
    const ticket = crm.addInteraction(contact.id, {
      type: 'ticket',
      subject,
      description: inputAt(data, 'description'),
      priority,
      status: 'new',
      date: new Date(),
    });
    return {
      message: `Ticket ${ticket.id} created for ${contact.name}.`,
      external_id: ticket.id,
      contact_external_id: contact.id,
      // The created contact goes with the answer, so that the hub knows the caller at once
      // (protocol 6.2).
      contact: created ? contactAnswer(contact) : undefined,
    };
  }

  const answering = (status, answer) => (body) => {
    checkCredentials(objectAt(body, 'auth', { required: true }));
    return { status, body: answer(body) };
  };
  return new Map([
    ['/auth_validation', answering(204, () => undefined)],
    ['/contact_sync', answering(200, contactPage)],
    ['/interactions', answering(200, interactions)],
    ['/agent_sync', answering(200, () => ({ agents: crm.agents }))],
    ['/actions/create_ticket', answering(201, createTicket)],
  ]);
}

// --- HTTP -------------------------------------------------------------------------------

async function jsonBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > LARGEST_BODY) {
      throw new Refusal(413, `The body is larger than ${LARGEST_BODY} bytes.`);
    }
    chunks.push(chunk);
  }
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badRequest('The body is not JSON.');
  }
  if (!isObject(body)) {
    throw badRequest('The body must be a JSON object.');
  }
  return body;
}

function send(response, status, body, headers = {}) {
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(text);
}

function requestHandler(endpoints) {
  async function answer(request, response) {
    const { pathname } = new URL(request.url, `http://${HOST}`);
    if (request.method === 'GET' && pathname === '/logo.svg') {
      response.writeHead(200, { 'Content-Type': 'image/svg+xml' }).end(await readFile(LOGO));
      return;
    }
    const endpoint = endpoints.get(pathname);
    if (endpoint === undefined) {
      send(response, 404, { message: `No endpoint at ${pathname}.` });
      return;
    }
    if (request.method !== 'POST') {
      send(response, 405, { message: 'Bridge endpoints take POST.' }, { Allow: 'POST' });
      return;
    }
    const { status, body } = endpoint(await jsonBody(request));
    send(response, status, body);
  }

  return (request, response) => {
    answer(request, response).catch((error) => {
      if (error instanceof Refusal) {
        send(response, error.status, { message: error.message });
        return;
      }
      console.error(error);
      send(response, 500, { message: 'The bridge failed; its log says why.' });
    });
  };
}

// --- running it -------------------------------------------------------------------------

/** `text` as a whole number from `lowest` to `highest`; throws, saying why, otherwise. */
function wholeNumber(name, text, lowest, highest) {
  const number = Number(text);
  if (!/^\d+$/.test(text) || number < lowest || number > highest) {
    const range = `from ${lowest} to ${highest}`;
    throw new Error(`${name} must be a whole number ${range}; found "${text}".`);
  }
  return number;
}

function settings(argv, env) {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } });
  const apiKey = env.NODE_CRM_API_KEY;
  if (!apiKey) {
    throw new Error('Set NODE_CRM_API_KEY: the API key the hub will be given for this CRM.');
  }
  return {
    apiKey,
    port: wholeNumber('The port', values.port ?? env.NODE_CRM_PORT ?? `${DEFAULT_PORT}`, 0, 65535),
    pageSize: wholeNumber(
      'NODE_CRM_PAGE_SIZE',
      env.NODE_CRM_PAGE_SIZE ?? `${DEFAULT_PAGE_SIZE}`,
      1,
      1000,
    ),
    publicUrl: env.NODE_CRM_PUBLIC_URL?.replace(/\/+$/, ''),
  };
}

function main() {
  let chosen;
  try {
    chosen = settings(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
  const server = createServer();
  server.listen(chosen.port, HOST, () => {
    const listening = `http://${HOST}:${server.address().port}`;
    const crm = Crm.seeded(chosen.publicUrl ?? listening);
    server.on('request', requestHandler(protocolEndpoints({ crm, ...chosen })));
    console.log(`Node CRM bridge listening on ${listening}`);
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => server.close(() => process.exit(0)));
  }
}

main();
