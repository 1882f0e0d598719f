// The CRM this bridge serves: contacts, their tickets and deals, and the agents, in memory.
// Every change to a contact takes the next number of one change counter, so "everything
// changed after change N" is what a synchronization checkpoint stands for.

const FIRST_NAMES = [
  'Ada', 'Bruno', 'Chiara', 'Dmitri', 'Esther', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas',
];
const LAST_NAMES = ['Keller', 'Lindqvist', 'Moreau'];
const COMPANIES = ['Northwind Traders', 'Blue Harbor Logistics', 'Acme Bakeries'];
const TITLES = ['Office manager', 'Head of purchasing', 'Owner', 'Accountant'];
const PRIORITIES = ['none', 'low', 'normal', 'high', 'urgent'];
const STATUSES = ['new', 'open', 'pending', 'solved', 'closed'];
const DEAL_STAGES = ['open', 'pending', 'closed'];
const DAY_MS = 24 * 60 * 60 * 1000;
const SEED_START = Date.UTC(2026, 0, 5, 9, 30);

export { PRIORITIES };

/** The digits of a phone number, which is how numbers written differently are compared. */
export const phoneDigits = (phone) => phone.replace(/\D/g, '');

export class Crm {
  #changes = 0;
  #contacts = new Map();
  #interactions = [];
  #agents = [];
  #publicUrl;

  constructor(publicUrl) {
    this.#publicUrl = publicUrl;
  }

  /** A CRM holding `count` made-up contacts, some with tickets and deals, and three agents. */
  static seeded(publicUrl, count = 30) {
    const crm = new Crm(publicUrl);
    for (let n = 0; n < count; n += 1) {
      const first = FIRST_NAMES[n % FIRST_NAMES.length];
      const last = LAST_NAMES[Math.floor(n / FIRST_NAMES.length) % LAST_NAMES.length];
      const contact = crm.addContact({
        name: `${first} ${last}`,
        company: COMPANIES[n % COMPANIES.length],
        title: TITLES[n % TITLES.length],
        emails: [`${first}.${last}${n}@example.com`.toLowerCase()],
        phones: [`+1 415 555 ${String(100 + n).padStart(4, '0')}`],
      });
      for (let t = 0; t < n % 4; t += 1) {
        const deal = t % 3 === 2;
        crm.addInteraction(contact.id, {
          type: deal ? 'deal' : 'ticket',
          subject: deal ? `Renewal for ${contact.company}` : `Question #${t + 1} from ${first}`,
          description: `Raised by ${contact.name} on the phone.`,
          priority: PRIORITIES[(n + t) % PRIORITIES.length],
          status: deal ? DEAL_STAGES[n % DEAL_STAGES.length] : STATUSES[(n + t) % STATUSES.length],
          date: new Date(SEED_START + (n * 4 + t) * DAY_MS),
        });
      }
    }
    crm.#agents = [
      { id: 'A1', name: 'Kim Osei', email: 'kim.osei@example.com' },
      { id: 'A2', name: 'Luca Ferri', email: 'luca.ferri@example.com' },
      { id: 'A3', name: 'Maya Brandt', email: 'maya.brandt@example.com' },
    ];
    return crm;
  }

  /** The number of the latest change: a checkpoint covers every change up to it. */
  get latestChange() {
    return this.#changes;
  }

  get agents() {
    return this.#agents;
  }

  contact(id) {
    return this.#contacts.get(id);
  }

  addContact(fields) {
    const id = String(this.#contacts.size + 1);
    const contact = { id, emails: [], phones: [], ...fields, change: (this.#changes += 1) };
    this.#contacts.set(id, contact);
    return contact;
  }

  /**
   * Contacts whose latest change is after `after` and at most `upTo`, in the order of their
   * changes, at most `limit` of them.
   */
  changedContacts({ after, upTo, limit }) {
    return [...this.#contacts.values()]
      .filter((contact) => contact.change > after && contact.change <= upTo)
      .sort((a, b) => a.change - b.change)
      .slice(0, limit);
  }

  /** Contacts with one of these emails (any case) or phone numbers (any spelling). */
  contactsMatching({ emails, phones }) {
    const wantedEmails = new Set(emails.map((email) => email.toLowerCase()));
    const wantedPhones = new Set(phones.map(phoneDigits).filter(Boolean));
    return [...this.#contacts.values()].filter(
      (contact) =>
        contact.emails.some((email) => wantedEmails.has(email.toLowerCase())) ||
        contact.phones.some((phone) => wantedPhones.has(phoneDigits(phone))),
    );
  }

  contactWithPhone(phone) {
    return this.contactsMatching({ emails: [], phones: [phone] })[0];
  }

  addInteraction(contactId, fields) {
    const id = String(this.#interactions.length + 1);
    const path = fields.type === 'deal' ? 'deals' : 'tickets';
    const interaction = { id, contactId, url: `${this.#publicUrl}/${path}/${id}`, ...fields };
    this.#interactions.push(interaction);
    return interaction;
  }

  /** The interactions of these contacts, of these types, the latest first. */
  interactionsOf(contactIds, types) {
    const contacts = new Set(contactIds);
    const wanted = new Set(types);
    return this.#interactions
      .filter((interaction) => contacts.has(interaction.contactId) && wanted.has(interaction.type))
      .sort((a, b) => b.date - a.date);
  }
}
