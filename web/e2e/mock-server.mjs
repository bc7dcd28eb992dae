// In-memory stand-in for the Tokki HTTP API, used to develop and test the web app
// without the C++ server. Implements the routes of docs/api.md that the app uses,
// including SSE token streaming with Last-Event-ID resume. Also serves web/dist.
//
// Usage: node e2e/mock-server.mjs [--port 8090] [--dist dist] [--real-model] [--admin USER:PASS]
//   Message text containing "/drop" makes the server cut the stream after a few tokens
//   (to exercise resume); "/slow" makes tokens come slowly (to exercise stop); "/fail"
//   makes the send fail with 503 as a server without a model does; "/quota" answers 429
//   resource_exhausted with Retry-After as the daily message quota does.
//   Moderation: reports, /api/admin/* (for the seeded admin, default admin:adminadmin),
//   suspended accounts, hidden/removed/mature characters, read-only conversations, the
//   content policy (block rules refuse character text with 400), account deletion,
//   character drafts (POST /api/characters/draft, a fixed draft built from the idea),
//   memory (notes and pins per user × character, their order, the "story so far" summary,
//   forgetting a message, the prompt inspector's GET …/prompt built from them, and the
//   conversation export). JSON
//   writes without Content-Type: application/json are refused with 415, as tokki does.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json',
  '.ico': 'image/x-icon', '.webmanifest': 'application/manifest+json', '.woff2': 'font/woff2',
};

const SEED = [
  ['King Sejong', 'The king who gave Korea its alphabet.', 'ko', true, ['history', 'korea', 'scholar'],
    '과인은 세종이오. 백성이 쉽게 읽고 쓰는 나라를 꿈꾸었소. 그대는 무엇을 배우고 싶소?', ['반갑소. 오늘은 어떤 이야기를 나눠 볼까?', '훈민정음에 대해 궁금한 것이 있소?']],
  ['Marie Curie', 'Physicist, chemist, two-time Nobel laureate.', 'en', true, ['science', 'history'],
    'Hello! I was just measuring radioactivity in the lab. What brings you here?', ['Nothing in life is to be feared, only understood. Shall we understand something together?']],
  ['Li Bai', '诗仙，举杯邀明月。', 'zh', true, ['poetry', 'history', 'china'],
    '举杯邀明月，对影成三人。朋友，今夜可愿与我共饮一杯？', []],
  ['Mina', 'Your cheerful barista friend who remembers your order.', 'en', false, ['companion', 'slice-of-life'],
    'Hey you! The usual oat latte? Tell me about your day while I steam the milk.', ['Back again? I saved you the window seat.', 'Rainy day special: hot chocolate. Want one?']],
  ['서하준', '밤하늘을 좋아하는 천문학과 선배', 'ko', false, ['companion', 'mentor'],
    '오늘 밤 목성이 잘 보인대. 같이 옥상에 올라가 볼래?', []],
  ['Captain Rhea', 'Starship pilot on the edge of known space.', 'en', false, ['sci-fi', 'adventure'],
    'Strap in, cadet. We jump to hyperspace in ten. Any last words for Earth?', []],
  ['Ada Lovelace', 'Poet of mathematics, first programmer.', 'en', true, ['science', 'history', 'math'],
    'Good day! I have been thinking about what the Analytical Engine might compose, given the right notes.', []],
  ['小雪', '温柔的图书管理员，喜欢猫和下雪天。', 'zh', false, ['companion', 'books'],
    '欢迎来到图书馆～今天想找什么书？我可以推荐几本。', []],
  ['Professor Oak-Tree', 'A wise old tree who teaches patience.', 'en', false, ['fantasy', 'mentor'],
    'Hmmm... a visitor. Sit in my shade, young one, and tell me what troubles you.', []],
  ['Leonardo da Vinci', 'Painter, engineer, endlessly curious.', 'en', true, ['art', 'history', 'science'],
    'Ah, welcome to my workshop! Mind the flying machine. What shall we sketch today?', []],
];

const WORDS = ('the a friend today sky tea warm story little bright quiet river morning light ' +
  'you me we wonder remember laugh kind gentle journey star small great curious book song').split(' ');

export function createMockServer(opts = {}) {
  const dist = opts.dist ?? path.join(here, '..', 'dist');
  const tokenDelayMs = opts.tokenDelayMs ?? 35;
  const isGenerated = opts.generated ?? true;
  const charactersPerUser = opts.charactersPerUser ?? 200;
  let nextId = 1;
  const id = () => nextId++;
  const now = () => Date.now();
  const users = new Map(); // id -> user
  const sessions = new Map(); // token -> user id
  const characters = new Map();
  const avatars = new Map(); // char id -> {mime, bytes}
  const swipes = []; // {user_id, character_id, action, undone}
  const conversations = new Map();
  const messages = new Map(); // id -> message (with .selected, .tokens, .listeners)
  const eventClients = new Map(); // user id -> Set(res)
  const reports = new Map(); // id -> report
  const audit = []; // newest last
  const policy = { rules: [], check_replies: false, require_adult_confirmation: true };
  const MEMORY_LIMITS = { max_items: 50, max_chars: 2000 };
  const relations = new Map(); // `${user_id}:${character_id}` -> {items: [memory], summary}
  const relKey = (conv) => `${conv.user_id}:${conv.character_id}`;
  function relation(conv) {
    const k = relKey(conv);
    if (!relations.has(k)) relations.set(k, { items: [], summary: null });
    return relations.get(k);
  }

  function newUser(username, password, role = 'user') {
    const u = { id: id(), username, password, display_name: username, persona: '', role, adult_confirmed: false, suspended: false, created_at: now() };
    users.set(u.id, u);
    return u;
  }
  for (const a of opts.admins || []) newUser(a.username, a.password, a.role || 'admin');

  for (const [name, tagline, language, real, tags, greet, alts] of SEED) {
    const cid = id();
    characters.set(cid, {
      id: cid, owner_id: 0, name, nickname: '', tagline, description: `${name}. ${tagline}`,
      personality: '', scenario: '', first_mes: greet, alternate_greetings: alts, mes_example: '',
      system_prompt: '', post_history_instructions: '', creator_notes: '', creator: 'Tokki',
      tags, language, real_person: real, visibility: 'public', created_at: now(), updated_at: now(),
    });
    if (cid % 2 === 1) avatars.set(cid, { mime: 'image/svg+xml', bytes: Buffer.from(svgAvatar(name, cid)) });
  }
  {
    // A mature character: only listed for users who confirmed they are adults and ask for it.
    const cid = id();
    characters.set(cid, {
      id: cid, owner_id: 0, name: 'Velvet', nickname: '', tagline: 'A jazz singer with a past. (18+)', description: 'Velvet sings in a smoky club after midnight.',
      personality: '', scenario: '', first_mes: 'The last set just ended. Buy me a drink?', alternate_greetings: [], mes_example: '',
      system_prompt: '', post_history_instructions: '', creator_notes: '', creator: 'Tokki', tags: ['romance', 'noir'], language: 'en',
      real_person: false, visibility: 'public', mature: true, created_at: now(), updated_at: now(),
    });
  }

  // ---------- helpers
  function send(res, status, obj, headers = {}) {
    const body = obj === undefined ? '' : JSON.stringify(obj);
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body);
  }
  function err(res, status, code, message) { send(res, status, { error: { code, message } }); }
  function readBody(req) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let n = 0;
      req.on('data', (c) => { n += c.length; if (n > 8 << 20) { reject(new Error('too_large')); req.destroy(); } else chunks.push(c); });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }
  async function readJson(req) {
    const b = await readBody(req);
    if (!b.length) return {};
    try { return JSON.parse(b.toString('utf8')); } catch { return null; }
  }
  function currentUser(req) {
    const cookie = req.headers.cookie || '';
    const m = cookie.match(/(?:^|;\s*)tokki_session=([^;]+)/);
    let tok = m ? m[1] : null;
    const auth = req.headers.authorization || '';
    if (auth.startsWith('Bearer ')) tok = auth.slice(7);
    const uid = tok && sessions.get(tok);
    const u = uid ? users.get(uid) : null;
    return u && !u.suspended ? u : null;
  }
  const publicUser = (u) => ({ id: u.id, username: u.username, display_name: u.display_name, persona: u.persona, role: u.role, adult_confirmed: u.adult_confirmed, created_at: u.created_at });
  const adminUser = (u) => ({ id: u.id, username: u.username, role: u.role, suspended: u.suspended, created_at: u.created_at });
  const ref = (u) => (u ? { id: u.id, username: u.username } : null);
  const isStaff = (u) => !!u && (u.role === 'moderator' || u.role === 'admin');
  const avatarUrl = (c) => (avatars.has(c.id) && !c.removed ? `/api/characters/${c.id}/avatar?v=${c.updated_at}` : null);
  function charJson(c, user) {
    const out = { ...c, mature: !!c.mature, hidden: !!c.hidden, removed: !!c.removed, is_owner: !!user && c.owner_id === user.id, avatar_url: avatarUrl(c) };
    if (out.is_owner) {
      const s = swipes.filter((x) => x.character_id === c.id && !x.undone);
      out.stats = {
        likes: s.filter((x) => x.action === 'like').length, passes: s.filter((x) => x.action === 'pass').length,
        superlikes: s.filter((x) => x.action === 'superlike').length,
        conversations: [...conversations.values()].filter((v) => v.character_id === c.id).length,
        messages: [...messages.values()].filter((m) => conversations.get(m.conversation_id)?.character_id === c.id).length,
      };
    }
    return out;
  }
  const own = (c, user) => !!user && c.owner_id === user.id;
  // Removed characters are gone; hidden ones stay for their owner and moderators.
  const canSee = (c, user) => !c.removed && (!c.hidden || own(c, user) || isStaff(user)) && (c.visibility !== 'private' || own(c, user) || (isStaff(user) && c.hidden));
  /** Whether a listing shows this character to this user (mature ones only when asked for by an adult). */
  function listed(c, user, url) {
    if (c.removed || (c.hidden && !own(c, user))) return false;
    if (c.mature && !own(c, user)) {
      const asked = url.searchParams.get('mature') === '1';
      if (!asked || (policy.require_adult_confirmation && !user?.adult_confirmed)) return false;
    }
    return true;
  }
  function readOnlyReason(ch, user) {
    if (!ch || ch.removed) return 'character_removed';
    if (own(ch, user)) return null;
    if (ch.hidden) return 'character_hidden';
    if (ch.visibility === 'private') return 'character_private';
    return null;
  }
  function msgJson(m) {
    const sibs = siblings(m);
    const conv = conversations.get(m.conversation_id);
    const rel = conv && relations.get(relKey(conv));
    return {
      pinned: !!rel && rel.items.some((x) => x.kind === 'pin' && x.message_id === m.id), forgotten: !!m.forgotten,
      id: m.id, conversation_id: m.conversation_id, role: m.role, content: m.content, status: m.status,
      parent_id: m.parent_id || null, alternative_index: sibs.indexOf(m), alternatives: sibs.length,
      rating: m.rating, finish_reason: m.finish_reason, created_at: m.created_at,
    };
  }
  function siblings(m) {
    return [...messages.values()].filter((x) => x.conversation_id === m.conversation_id && x.parent_id === m.parent_id && x.role === m.role).sort((a, b) => a.id - b.id);
  }
  function children(convId, parentId) {
    return [...messages.values()].filter((x) => x.conversation_id === convId && x.parent_id === parentId).sort((a, b) => a.id - b.id);
  }
  function path_(convId) {
    const out = [];
    let parent = 0;
    for (;;) {
      const kids = children(convId, parent);
      if (!kids.length) break;
      const sel = kids.find((k) => k.selected) || kids[kids.length - 1];
      out.push(sel);
      parent = sel.id;
    }
    return out;
  }
  function select(m) {
    for (const s of siblings(m)) s.selected = s === m;
  }
  function convJson(c) {
    const ch = characters.get(c.character_id);
    const p = path_(c.id);
    const reason = readOnlyReason(ch, users.get(c.user_id));
    return {
      id: c.id, character_id: c.character_id, created_at: c.created_at, updated_at: c.updated_at,
      character: { id: ch.id, name: ch.name, tagline: ch.tagline, avatar_url: avatarUrl(ch), real_person: ch.real_person, language: ch.language, mature: !!ch.mature, hidden: !!ch.hidden, removed: !!ch.removed },
      last_message: p.length ? msgJson(p[p.length - 1]) : null,
      read_only: reason !== null, read_only_reason: reason,
    };
  }
  function newMessage(conv, role, content, parent_id, extra = {}) {
    const m = { id: id(), conversation_id: conv.id, role, content, status: 'complete', parent_id, selected: true, rating: 0, finish_reason: role === 'assistant' ? 'stop' : '', created_at: now(), tokens: [], listeners: new Set(), ...extra };
    messages.set(m.id, m);
    select(m);
    conv.updated_at = now();
    return m;
  }
  function createConversation(user, ch) {
    const existing = [...conversations.values()].find((c) => c.user_id === user.id && c.character_id === ch.id);
    if (existing) return existing;
    const conv = { id: id(), user_id: user.id, character_id: ch.id, created_at: now(), updated_at: now() };
    conversations.set(conv.id, conv);
    const greetings = [ch.first_mes || `Hi, I'm ${ch.name}.`, ...(ch.alternate_greetings || [])];
    let first = null;
    for (const g of greetings) {
      const m = newMessage(conv, 'assistant', g.replaceAll('{{user}}', user.display_name || user.username).replaceAll('{{char}}', ch.name), 0);
      m.finish_reason = 'greeting';
      if (!first) first = m;
    }
    select(first);
    return conv;
  }
  function pushEvent(userId, payload) {
    for (const res of eventClients.get(userId) || []) {
      res.write(`event: message\ndata: ${JSON.stringify(payload)}\n\n`);
    }
  }

  // ---------- generation
  function replyText(userText, ch) {
    const n = 18 + Math.floor(Math.random() * 14);
    const words = [];
    for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(Math.random() * WORDS.length)]);
    const echo = userText ? `You said “${userText.slice(0, 60)}”. ` : '';
    return `${echo}${words.join(' ')}.`;
  }
  function tokenize(text) { return text.match(/\s*\S+/g) || []; }
  function generate(conv, m, text, opts2 = {}) {
    // Runs on timers independent of any connection; listeners receive events.
    const toks = tokenize(text);
    m.status = 'streaming';
    m.stopRequested = false;
    m.genStart = now();
    m.startIndex = m.tokens.length;
    conv.generating = m;
    const delay = opts2.slow ? 250 : tokenDelayMs;
    let i = 0;
    const step = () => {
      if (m.stopRequested || i >= toks.length) {
        m.status = m.stopRequested ? 'stopped' : 'complete';
        m.finish_reason = m.stopRequested ? 'stopped' : 'stop';
        conv.generating = null;
        conv.updated_at = now();
        const done = { message_id: m.id, finish_reason: m.finish_reason, usage: { prompt_tokens: 42, cached_tokens: 30, completion_tokens: i }, timings: { ttft_ms: 12, total_ms: now() - m.genStart } };
        m.doneEvent = done;
        for (const l of m.listeners) l('done', done);
        m.listeners.clear();
        pushEvent(conv.user_id, { conversation_id: conv.id, message: msgJson(m) });
        return;
      }
      const t = toks[i++];
      m.content += t;
      m.tokens.push(t);
      const tid = m.tokens.length;
      for (const l of m.listeners) l('token', { text: t }, tid);
      setTimeout(step, delay);
    };
    setTimeout(step, delay);
  }
  function attachStream(res, m, fromTokenId, opts2 = {}) {
    // Replays tokens after fromTokenId then follows live.
    let sent = 0;
    const write = (event, data, eid) => {
      if (res.destroyed) return;
      res.write((eid !== undefined ? `id: ${eid}\n` : '') + `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      if (event === 'token') {
        sent++;
        if (opts2.dropAfter && sent >= opts2.dropAfter) { m.listeners.delete(listener); res.socket?.destroy(); }
      }
      if (event === 'done' || event === 'error') res.end();
    };
    for (let k = fromTokenId; k < m.tokens.length; k++) {
      write('token', { text: m.tokens[k] }, k + 1);
      if (res.destroyed) return;
    }
    if (m.status !== 'streaming') { write('done', m.doneEvent || { message_id: m.id, finish_reason: m.finish_reason, usage: {}, timings: {} }); return; }
    const listener = (ev, data, eid) => write(ev, data, eid);
    m.listeners.add(listener);
    res.on('close', () => m.listeners.delete(listener));
  }
  // POST /api/characters/draft: the model's JSON streamed in small pieces, then the draft.
  async function draftCharacter(req, res) {
    const b = await readJson(req);
    if (!b) return err(res, 400, 'invalid_argument', 'body is not JSON');
    const idea = typeof b.idea === 'string' ? b.idea : '';
    const language = b.language === undefined ? 'en' : b.language;
    if (!idea.trim()) return err(res, 400, 'invalid_argument', 'idea must not be empty');
    if ([...idea].length > 2000) return err(res, 400, 'invalid_argument', 'idea is over 2000 characters');
    if (!['en', 'ko', 'zh'].includes(language)) return err(res, 400, 'invalid_argument', 'language must be one of en, ko, zh');
    const words = idea.trim().split(/\s+/).slice(0, 3).join(' ');
    const model = {
      name: `Draft ${words}`.slice(0, 40), tagline: `Someone born from "${words}"`.slice(0, 120),
      description: `A character drafted from the idea: ${idea}`.slice(0, 600), personality: 'Curious and kind.',
      scenario: 'You meet at a small café.', greeting: 'Hi! I was just thinking about you.',
      example_dialogue: '{{user}}: Hello\n{{char}}: Hi there!', tags: ['draft', language],
    };
    const draft = { name: model.name, tagline: model.tagline, description: model.description, personality: model.personality,
      scenario: model.scenario, first_mes: model.greeting, mes_example: model.example_dialogue, tags: model.tags, language };
    const text = JSON.stringify(model);
    const pieces = text.match(/[\s\S]{1,6}/g);
    const done = { finish_reason: 'stop', usage: { prompt_tokens: 300, cached_tokens: 0, completion_tokens: pieces.length }, timings: { ttft_ms: 5, total_ms: 5 * pieces.length } };
    if (!(req.headers.accept || '').includes('text/event-stream')) return send(res, 200, { draft, ...done });
    sseHead(res);
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      if (i < pieces.length) { res.write(`id: ${i + 1}\nevent: token\ndata: ${JSON.stringify({ text: pieces[i] })}\n\n`); i++; return; }
      clearInterval(timer);
      res.write(`id: ${i + 1}\nevent: draft\ndata: ${JSON.stringify({ draft, ...done })}\n\n`);
      res.end();
    }, 15);
  }

  function sseHead(res) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  }

  // ---------- card formats
  function cardV2(c) {
    return {
      spec: 'chara_card_v2', spec_version: '2.0',
      data: {
        name: c.name, description: c.description, personality: c.personality, scenario: c.scenario,
        first_mes: c.first_mes, mes_example: c.mes_example, creator_notes: c.creator_notes,
        system_prompt: c.system_prompt, post_history_instructions: c.post_history_instructions,
        alternate_greetings: c.alternate_greetings, tags: c.tags, creator: c.creator, character_version: '1',
        extensions: { tokki: { tagline: c.tagline, language: c.language, real_person: c.real_person } },
      },
    };
  }
  function parseCard(buf, filename) {
    let jsonText = null;
    if (buf.length > 8 && buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) {
      let off = 8;
      while (off + 8 <= buf.length) {
        const len = buf.readUInt32BE(off);
        const type = buf.toString('latin1', off + 4, off + 8);
        if (type === 'tEXt') {
          const data = buf.subarray(off + 8, off + 8 + len);
          const z = data.indexOf(0);
          const key = data.toString('latin1', 0, z);
          if (key === 'chara' || key === 'ccv3') jsonText = Buffer.from(data.toString('latin1', z + 1), 'base64').toString('utf8');
        }
        off += 12 + len;
      }
      if (!jsonText) throw new Error('PNG has no character card data (no chara/ccv3 text chunk)');
    } else if (buf[0] === 0x50 && buf[1] === 0x4b) {
      jsonText = zipEntry(buf, 'card.json');
      if (jsonText === null) throw new Error('CHARX archive has no card.json');
    } else {
      jsonText = buf.toString('utf8');
    }
    let j;
    try { j = JSON.parse(jsonText); } catch { throw new Error(`${filename || 'file'} is not valid JSON or a card PNG`); }
    const d = j && typeof j === 'object' && j.data && typeof j.data === 'object' ? j.data : j;
    if (!d || typeof d.name !== 'string' || !d.name.trim()) throw new Error('card has no name');
    return d;
  }
  function crcChunk(type, data) {
    const head = Buffer.alloc(4); head.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([head, td, crc]);
  }
  function cardPng(c) {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(1, 0); ihdr.writeUInt32BE(1, 4); ihdr[8] = 8; ihdr[9] = 2;
    const raw = Buffer.from([0, 255, 182, 193]);
    return Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), crcChunk('IHDR', ihdr),
      crcChunk('tEXt', Buffer.concat([Buffer.from('chara\0', 'latin1'), Buffer.from(Buffer.from(JSON.stringify(cardV2(c))).toString('base64'), 'latin1')])),
      crcChunk('IDAT', zlib.deflateSync(raw)), crcChunk('IEND', Buffer.alloc(0)),
    ]);
  }
  /** The text of one file in a zip archive (stored or deflated entries), or null. */
  function zipEntry(buf, wanted) {
    let off = 0;
    while (off + 30 <= buf.length && buf.readUInt32LE(off) === 0x04034b50) {
      const method = buf.readUInt16LE(off + 8);
      const size = buf.readUInt32LE(off + 18);
      const nameLen = buf.readUInt16LE(off + 26);
      const extraLen = buf.readUInt16LE(off + 28);
      const name = buf.toString('utf8', off + 30, off + 30 + nameLen);
      const start = off + 30 + nameLen + extraLen;
      const data = buf.subarray(start, start + size);
      if (name === wanted) return (method === 8 ? zlib.inflateRawSync(data) : data).toString('utf8');
      off = start + size;
    }
    return null;
  }
  function zipStore(name, data) {
    const nameB = Buffer.from(name);
    const crc = zlib.crc32(data) >>> 0;
    const lh = Buffer.alloc(30); lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(data.length, 18); lh.writeUInt32LE(data.length, 22); lh.writeUInt16LE(nameB.length, 26);
    const cd = Buffer.alloc(46); cd.writeUInt32LE(0x02014b50, 0); cd.writeUInt16LE(20, 4); cd.writeUInt16LE(20, 6);
    cd.writeUInt32LE(crc, 16); cd.writeUInt32LE(data.length, 20); cd.writeUInt32LE(data.length, 24); cd.writeUInt16LE(nameB.length, 28);
    const cdOff = 30 + nameB.length + data.length;
    const end = Buffer.alloc(22); end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
    end.writeUInt32LE(46 + nameB.length, 12); end.writeUInt32LE(cdOff, 16);
    return Buffer.concat([lh, nameB, data, cd, nameB, end]);
  }

  const FIELDS = ['name', 'nickname', 'tagline', 'description', 'personality', 'scenario', 'first_mes', 'mes_example', 'system_prompt', 'post_history_instructions', 'creator_notes', 'creator', 'language'];
  function applyFields(c, b) {
    for (const f of FIELDS) if (b[f] !== undefined) {
      if (typeof b[f] !== 'string') return `${f} must be a string`;
      c[f] = b[f];
    }
    for (const f of ['alternate_greetings', 'tags']) if (b[f] !== undefined) {
      if (!Array.isArray(b[f]) || b[f].some((x) => typeof x !== 'string')) return `${f} must be a list of strings`;
      c[f] = b[f];
    }
    if (b.visibility !== undefined) {
      if (!['private', 'unlisted', 'public'].includes(b.visibility)) return 'visibility must be private, unlisted or public';
      c.visibility = b.visibility;
    }
    if (b.real_person !== undefined) c.real_person = c.real_person || !!b.real_person; // cannot be removed
    if (b.mature !== undefined) {
      if (typeof b.mature !== 'boolean') return 'mature must be true or false';
      c.mature = b.mature;
    }
    if (!c.name || !c.name.trim()) return 'name is required';
    if (c.name.length > 100) return 'name is too long (100 characters at most)';
    return null;
  }

  // ---------- moderation
  const TEXT_FIELDS = ['name', 'nickname', 'tagline', 'description', 'personality', 'scenario', 'first_mes', 'mes_example', 'system_prompt', 'post_history_instructions', 'creator_notes'];
  /** The first block rule of the content policy that this character's text breaks, as a message. */
  function policyViolation(c) {
    const texts = [...TEXT_FIELDS.map((f) => c[f] || ''), ...(c.alternate_greetings || []), ...(c.tags || [])];
    for (const r of policy.rules) {
      if (r.action !== 'block' || (r.language && r.language !== c.language)) continue;
      const hit = r.type === 'pattern' ? texts.some((x) => new RegExp(r.text, 'iu').test(x)) : texts.some((x) => x.toLowerCase().includes(r.text.toLowerCase()));
      if (hit) return `the content policy does not allow this text (rule ${r.id}: ${r.type} "${r.text}")`;
    }
    return null;
  }
  function logAudit(actor, action, target_kind, target_id, detail) {
    audit.push({ id: id(), actor: ref(actor), action, target_kind, target_id, detail, created_at: now() });
  }
  function resolve(report, actor, status) {
    if (!report || report.status !== 'open') return;
    report.status = status;
    report.resolved_by = actor.id;
    report.resolved_at = now();
  }
  function reportJson(r) {
    const ch = characters.get(r.character_id);
    const owner = ch ? users.get(ch.owner_id) : null;
    return {
      id: r.id, target_kind: r.target_kind, target_id: r.target_id, reason: r.reason, note: r.note, status: r.status, created_at: r.created_at,
      reporter: ref(users.get(r.reporter_id)),
      character: ch ? { id: ch.id, name: ch.name, tagline: ch.tagline, avatar_url: avatarUrl(ch), hidden: !!ch.hidden, removed: !!ch.removed, owner: ref(owner) } : null,
      context: r.context || [], resolved_by: ref(users.get(r.resolved_by)), resolved_at: r.resolved_at || null,
    };
  }
  const REASONS = ['sexual_content_minors', 'harassment', 'hate', 'violence', 'self_harm', 'spam', 'impersonation', 'other'];
  function page(items, key, cursorName, cursor, limit, desc) {
    let list = [...items].sort((a, b) => (desc ? b.id - a.id : a.id - b.id));
    if (cursor) list = list.filter((x) => (desc ? x.id < Number(cursor) : x.id > Number(cursor)));
    const out = list.slice(0, limit);
    return { items: out, [key]: list.length > limit ? out[out.length - 1].id : null };
  }

  async function handleAdmin(req, res, url, user, seg) {
    const m = req.method;
    if (!isStaff(user)) return err(res, 403, 'permission_denied', 'moderators only');
    const limit = Math.min(100, Number(url.searchParams.get('limit') || 20));
    if (seg[1] === 'reports' && seg.length === 2 && m === 'GET') {
      const status = url.searchParams.get('status') || 'open';
      const r = page([...reports.values()].filter((x) => x.status === status), 'next_before', 'before', url.searchParams.get('before'), limit, true);
      return send(res, 200, { items: r.items.map(reportJson), next_before: r.next_before });
    }
    if (seg[1] === 'reports' && seg[3] === 'dismiss' && m === 'POST') {
      const r = reports.get(Number(seg[2]));
      if (!r) return err(res, 404, 'not_found', 'no such report');
      if (r.status !== 'open') return err(res, 409, 'conflict', 'this report is already resolved');
      resolve(r, user, 'dismissed');
      logAudit(user, 'report.dismiss', 'report', r.id, { reason: r.reason });
      return send(res, 200, { report: reportJson(r) });
    }
    if (seg[1] === 'characters' && seg[3] === 'hide' && m === 'POST') {
      const c = characters.get(Number(seg[2]));
      const b = await readJson(req);
      if (!c || c.removed) return err(res, 404, 'not_found', 'no such character');
      if (!b || typeof b.hidden !== 'boolean') return err(res, 400, 'invalid_argument', 'hidden must be true or false');
      c.hidden = b.hidden;
      logAudit(user, b.hidden ? 'character.hide' : 'character.unhide', 'character', c.id, { name: c.name, report_id: b.report_id ?? null });
      if (b.report_id != null) resolve(reports.get(Number(b.report_id)), user, 'actioned');
      return send(res, 200, { character: charJson(c, user) });
    }
    if (seg[1] === 'users' && seg.length === 2 && m === 'GET') {
      const q = (url.searchParams.get('q') || '').toLowerCase();
      const r = page([...users.values()].filter((u) => u.username.toLowerCase().startsWith(q)), 'next_after', 'after', url.searchParams.get('after'), limit, false);
      return send(res, 200, { items: r.items.map(adminUser), next_after: r.next_after });
    }
    if (seg[1] === 'users' && seg.length >= 3) {
      const u = users.get(Number(seg[2]));
      if (!u) return err(res, 404, 'not_found', 'no such user');
      if (seg[3] === 'suspend' && m === 'POST') {
        const b = await readJson(req);
        if (!b || typeof b.suspended !== 'boolean') return err(res, 400, 'invalid_argument', 'suspended must be true or false');
        if (u.id === user.id) return err(res, 400, 'invalid_argument', 'you cannot suspend yourself');
        if (u.role === 'admin' && user.role !== 'admin') return err(res, 403, 'permission_denied', 'only admins can suspend admins');
        u.suspended = b.suspended;
        if (u.suspended) for (const [tok, uid] of sessions) if (uid === u.id) sessions.delete(tok);
        logAudit(user, b.suspended ? 'user.suspend' : 'user.unsuspend', 'user', u.id, { username: u.username, report_id: b.report_id ?? null });
        if (b.report_id != null) resolve(reports.get(Number(b.report_id)), user, 'actioned');
        return send(res, 200, { user: adminUser(u) });
      }
      if (seg.length === 3 && m === 'PATCH') {
        if (user.role !== 'admin') return err(res, 403, 'permission_denied', 'only admins can change roles');
        const b = await readJson(req);
        if (!b || !['user', 'moderator', 'admin'].includes(b.role)) return err(res, 400, 'invalid_argument', 'role must be user, moderator or admin');
        if (u.id === user.id) return err(res, 400, 'invalid_argument', 'you cannot change your own role');
        const from = u.role;
        u.role = b.role;
        logAudit(user, 'user.role', 'user', u.id, { username: u.username, from, to: b.role });
        return send(res, 200, { user: adminUser(u) });
      }
    }
    if (seg[1] === 'audit' && m === 'GET') {
      const r = page(audit, 'next_before', 'before', url.searchParams.get('before'), Math.min(100, Number(url.searchParams.get('limit') || 30)), true);
      return send(res, 200, r);
    }
    if (seg[1] === 'policy') {
      if (user.role !== 'admin') return err(res, 403, 'permission_denied', 'only admins can see the content policy');
      if (m === 'GET') return send(res, 200, policy);
      if (m === 'PUT') {
        const b = await readJson(req);
        if (!b || !Array.isArray(b.rules)) return err(res, 400, 'invalid_argument', 'rules must be a list');
        const rules = [];
        for (const [i, r] of b.rules.entries()) {
          const n = i + 1;
          if (!r || typeof r !== 'object') return err(res, 400, 'invalid_argument', `rule ${n}: not an object`);
          if (!['term', 'pattern'].includes(r.type)) return err(res, 400, 'invalid_argument', `rule ${n}: type must be term or pattern`);
          if (!['block', 'review'].includes(r.action)) return err(res, 400, 'invalid_argument', `rule ${n}: action must be block or review`);
          if (typeof r.text !== 'string' || !r.text.trim()) return err(res, 400, 'invalid_argument', `rule ${n}: text is empty`);
          if (typeof (r.language ?? '') !== 'string') return err(res, 400, 'invalid_argument', `rule ${n}: language must be a string`);
          if (r.type === 'pattern') { try { new RegExp(r.text, 'iu'); } catch (e) { return err(res, 400, 'invalid_argument', `rule ${n}: bad pattern: ${e.message}`); } }
          rules.push({ id: r.id ?? id(), language: r.language ?? '', type: r.type, text: r.text.trim(), action: r.action });
        }
        policy.rules = rules;
        if (typeof b.check_replies === 'boolean') policy.check_replies = b.check_replies;
        if (typeof b.require_adult_confirmation === 'boolean') policy.require_adult_confirmation = b.require_adult_confirmation;
        logAudit(user, 'policy.update', 'policy', null, { rules: rules.length });
        return send(res, 200, policy);
      }
    }
    return err(res, 404, 'not_found', `no route ${m} ${url.pathname}`);
  }

  // ---------- routing
  async function handleApi(req, res, url) {
    const p = url.pathname;
    const m = req.method;
    const seg = p.split('/').filter(Boolean).slice(1); // after 'api'
    if (p === '/api/server' && m === 'GET') return send(res, 200, { version: '0.1.0-mock', model: { name: 'tiny-generated', backend: 'mock', n_ctx: 4096, is_generated: isGenerated }, policy: { require_adult_confirmation: policy.require_adult_confirmation } });
    // JSON routes take JSON only (uploads: card import and avatars are raw bytes).
    const upload = p === '/api/characters/import' || (seg[0] === 'characters' && seg[2] === 'avatar');
    const hasBody = Number(req.headers['content-length'] || 0) > 0 || !!req.headers['transfer-encoding'];
    if (!upload && (['POST', 'PUT', 'PATCH'].includes(m) || (m === 'DELETE' && hasBody)) && !/^application\/json\b/i.test(req.headers['content-type'] || '')) {
      return err(res, 415, 'unsupported_media_type', 'send the body as Content-Type: application/json');
    }
    if (p === '/api/auth/register' || p === '/api/auth/login') {
      if (m !== 'POST') return err(res, 405, 'method_not_allowed', 'use POST');
      const b = await readJson(req);
      if (!b || typeof b.username !== 'string' || typeof b.password !== 'string') return err(res, 400, 'invalid_argument', 'username and password are required');
      let u = [...users.values()].find((x) => x.username === b.username);
      if (p.endsWith('register')) {
        if (!/^[A-Za-z0-9_.-]{3,32}$/.test(b.username)) return err(res, 400, 'invalid_username', 'username must be 3-32 letters, digits, _ . -');
        if (b.password.length < 8) return err(res, 400, 'weak_password', 'password must be at least 8 characters');
        if (u) return err(res, 409, 'username_taken', 'that username is taken');
        u = newUser(b.username, b.password);
      } else if (!u || u.password !== b.password) return err(res, 401, 'invalid_credentials', 'wrong username or password');
      if (u.suspended) return err(res, 403, 'permission_denied', 'this account is suspended');
      const token = crypto.randomBytes(16).toString('hex');
      sessions.set(token, u.id);
      return send(res, p.endsWith('register') ? 201 : 200, { user: publicUser(u), token }, { 'Set-Cookie': `tokki_session=${token}; HttpOnly; Path=/; SameSite=Lax` });
    }
    const user = currentUser(req);
    if (p === '/api/auth/logout' && m === 'POST') {
      const mm = (req.headers.cookie || '').match(/tokki_session=([^;]+)/);
      if (mm) sessions.delete(mm[1]);
      return send(res, 200, { ok: true }, { 'Set-Cookie': 'tokki_session=; HttpOnly; Path=/; Max-Age=0' });
    }
    if (!user) return err(res, 401, 'unauthenticated', 'log in first');
    if (p === '/api/me') {
      if (m === 'GET') return send(res, 200, { user: publicUser(user) });
      if (m === 'PATCH') {
        const b = await readJson(req);
        if (!b) return err(res, 400, 'invalid_json', 'body is not JSON');
        if (b.display_name !== undefined) user.display_name = String(b.display_name).slice(0, 100);
        if (b.persona !== undefined) user.persona = String(b.persona).slice(0, 4000);
        if (b.adult_confirmed !== undefined) {
          if (typeof b.adult_confirmed !== 'boolean') return err(res, 400, 'invalid_argument', 'adult_confirmed must be true or false');
          user.adult_confirmed = b.adult_confirmed;
        }
        return send(res, 200, { user: publicUser(user) });
      }
      if (m === 'DELETE') {
        const b = await readJson(req);
        if (!b || typeof b.password !== 'string' || b.password !== user.password) return err(res, 401, 'unauthenticated', 'wrong password');
        // Characters others talk to stay readable for them, as removed.
        for (const c of characters.values()) if (c.owner_id === user.id) { c.removed = true; c.owner_id = null; avatars.delete(c.id); }
        for (const c of [...conversations.values()]) if (c.user_id === user.id) {
          conversations.delete(c.id);
          for (const [mid, msg] of messages) if (msg.conversation_id === c.id) messages.delete(mid);
        }
        for (let i = swipes.length - 1; i >= 0; i--) if (swipes[i].user_id === user.id) swipes.splice(i, 1);
        for (const [tok, uid] of sessions) if (uid === user.id) sessions.delete(tok);
        users.delete(user.id);
        res.writeHead(204, { 'Set-Cookie': 'tokki_session=; HttpOnly; Path=/; Max-Age=0' });
        return res.end();
      }
    }
    if (seg[0] === 'admin') return handleAdmin(req, res, url, user, seg);
    if (p === '/api/reports' && m === 'POST') {
      const b = await readJson(req);
      if (!b || !['character', 'message'].includes(b.target_kind)) return err(res, 400, 'invalid_argument', 'target_kind must be character or message');
      if (!REASONS.includes(b.reason)) return err(res, 400, 'invalid_argument', `reason must be one of ${REASONS.join(', ')}`);
      if (b.note !== undefined && (typeof b.note !== 'string' || [...b.note].length > 1000)) return err(res, 400, 'invalid_argument', 'note must be text of 1000 characters at most');
      const r = { id: 0, reporter_id: user.id, target_kind: b.target_kind, target_id: Number(b.target_id), reason: b.reason, note: b.note || null, status: 'open', created_at: now(), character_id: null, context: null };
      if (b.target_kind === 'character') {
        const c = characters.get(r.target_id);
        if (!c || !canSee(c, user)) return err(res, 404, 'not_found', 'no such character');
        r.character_id = c.id;
      } else {
        const msg = messages.get(r.target_id);
        const conv = msg && conversations.get(msg.conversation_id);
        if (!msg || !conv || conv.user_id !== user.id) return err(res, 404, 'not_found', 'no such message');
        if (msg.role !== 'assistant') return err(res, 400, 'invalid_argument', 'only a character’s messages can be reported');
        r.character_id = conv.character_id;
        // The reported message in its context: up to three before it and one after, as they were.
        const pth = path_(conv.id);
        const at = pth.indexOf(msg);
        const ctx = at >= 0 ? pth.slice(Math.max(0, at - 3), at + 2) : [msg];
        r.context = ctx.map((x) => ({ ...msgJson(x), reported: x === msg }));
      }
      if ([...reports.values()].some((x) => x.reporter_id === user.id && x.target_kind === r.target_kind && x.target_id === r.target_id)) {
        return err(res, 409, 'already_exists', 'you have already reported this');
      }
      r.id = id();
      reports.set(r.id, r);
      return send(res, 201, { report: reportJson(r) });
    }
    if (p === '/api/events' && m === 'GET') {
      sseHead(res);
      res.write(': hello\n\n');
      if (!eventClients.has(user.id)) eventClients.set(user.id, new Set());
      eventClients.get(user.id).add(res);
      const hb = setInterval(() => res.write(': ping\n\n'), 15000);
      res.on('close', () => { clearInterval(hb); eventClients.get(user.id)?.delete(res); });
      return;
    }
    // characters
    if (seg[0] === 'characters') {
      if (seg.length === 1 && m === 'GET') {
        const q = (url.searchParams.get('q') || '').toLowerCase();
        const mine = url.searchParams.get('mine') === '1';
        let items = [...characters.values()].filter((c) => (mine ? c.owner_id === user.id && !c.removed : (c.visibility === 'public' || c.owner_id === user.id) && listed(c, user, url)));
        if (q) items = items.filter((c) => (c.name + ' ' + c.tagline).toLowerCase().includes(q));
        return send(res, 200, { items: items.map((c) => charJson(c, user)), next_cursor: null });
      }
      if (seg.length === 1 && m === 'POST') {
        const b = await readJson(req);
        if (!b) return err(res, 400, 'invalid_json', 'body is not JSON');
        const c = { id: 0, owner_id: user.id, name: '', nickname: '', tagline: '', description: '', personality: '', scenario: '', first_mes: '', alternate_greetings: [], mes_example: '', system_prompt: '', post_history_instructions: '', creator_notes: '', creator: user.username, tags: [], language: 'en', real_person: false, visibility: 'private', created_at: now(), updated_at: now() };
        if ([...characters.values()].filter((x) => x.owner_id === user.id).length >= charactersPerUser) {
          res.setHeader('Retry-After', '3600');
          return err(res, 429, 'resource_exhausted', `you can create ${charactersPerUser} characters at most`);
        }
        const e = applyFields(c, b) || policyViolation(c);
        if (e) return err(res, 400, 'invalid_argument', e);
        c.id = id();
        characters.set(c.id, c);
        return send(res, 201, charJson(c, user));
      }
      if (seg[1] === 'import' && m === 'POST') {
        let buf;
        try { buf = await readBody(req); } catch { return err(res, 413, 'too_large', 'card file is too large'); }
        let d;
        try { d = parseCard(buf, req.headers['x-filename']); } catch (e) { return err(res, 400, 'invalid_card', e.message); }
        const c = { id: id(), owner_id: user.id, name: '', nickname: '', tagline: '', description: '', personality: '', scenario: '', first_mes: '', alternate_greetings: [], mes_example: '', system_prompt: '', post_history_instructions: '', creator_notes: '', creator: '', tags: [], language: 'en', real_person: false, visibility: 'private', created_at: now(), updated_at: now() };
        const tk = d.extensions?.tokki || {};
        const e = applyFields(c, { ...Object.fromEntries(Object.entries(d).filter(([k]) => FIELDS.includes(k) || k === 'tags' || k === 'alternate_greetings')), tagline: tk.tagline ?? '', language: tk.language ?? 'en', real_person: !!tk.real_person, mature: !!tk.mature });
        if (e) { nextId--; return err(res, 400, 'invalid_card', e); }
        const bad = policyViolation(c);
        if (bad) return err(res, 400, 'invalid_argument', bad);
        characters.set(c.id, c);
        return send(res, 201, charJson(c, user));
      }
      if (seg[1] === 'draft' && seg.length === 2 && m === 'POST') return draftCharacter(req, res);
      const c = characters.get(Number(seg[1]));
      if (!c || !canSee(c, user)) return err(res, 404, 'not_found', 'no such character');
      const mineC = c.owner_id === user.id;
      if (seg.length === 2) {
        if (m === 'GET') return send(res, 200, charJson(c, user));
        if (!mineC) return err(res, 403, 'forbidden', 'not your character');
        if (m === 'PATCH') {
          const b = await readJson(req);
          if (!b) return err(res, 400, 'invalid_json', 'body is not JSON');
          const copy = { ...c };
          const e = applyFields(copy, b) || policyViolation(copy);
          if (e) return err(res, 400, 'invalid_argument', e);
          Object.assign(c, copy, { updated_at: now() });
          return send(res, 200, charJson(c, user));
        }
        // Deleted characters stay as "removed" for the conversations others have with them.
        if (m === 'DELETE') { c.removed = true; avatars.delete(c.id); res.writeHead(204); return res.end(); }
      }
      if (seg[2] === 'avatar') {
        if (m === 'GET') {
          const a = avatars.get(c.id);
          if (!a) return err(res, 404, 'not_found', 'no avatar');
          res.writeHead(200, { 'Content-Type': a.mime, 'Cache-Control': 'max-age=3600' });
          return res.end(a.bytes);
        }
        if (m === 'PUT') {
          if (!mineC) return err(res, 403, 'forbidden', 'not your character');
          const ct = (req.headers['content-type'] || '').split(';')[0];
          if (!['image/png', 'image/jpeg', 'image/webp'].includes(ct)) return err(res, 400, 'unsupported_media_type', 'avatar must be PNG, JPEG or WebP');
          const bytes = await readBody(req);
          avatars.set(c.id, { mime: ct, bytes });
          c.updated_at = now();
          return send(res, 200, charJson(c, user));
        }
      }
      if (seg[2] === 'export' && m === 'GET') {
        const f = url.searchParams.get('format') || 'json';
        const base = c.name.replace(/[^\p{L}\p{N}_-]+/gu, '_') || 'character';
        if (f === 'json') { res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Disposition': `attachment; filename="${encodeURIComponent(base)}.json"` }); return res.end(JSON.stringify(cardV2(c), null, 2)); }
        if (f === 'png') { res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Disposition': `attachment; filename="${encodeURIComponent(base)}.png"` }); return res.end(cardPng(c)); }
        if (f === 'charx') { res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Disposition': `attachment; filename="${encodeURIComponent(base)}.charx"` }); return res.end(zipStore('card.json', Buffer.from(JSON.stringify({ ...cardV2(c), spec: 'chara_card_v3', spec_version: '3.0' })))); }
        return err(res, 400, 'invalid_argument', 'format must be png, json or charx');
      }
    }
    // deck
    if (p === '/api/deck' && m === 'GET') {
      const limit = Math.min(50, Number(url.searchParams.get('limit') || 10));
      const langs = (url.searchParams.get('lang') || '').split(',').filter(Boolean);
      const real = url.searchParams.get('real_people');
      const seen = new Set(swipes.filter((s) => s.user_id === user.id && !s.undone).map((s) => s.character_id));
      const cards = [...characters.values()].filter((c) => c.visibility === 'public' && !seen.has(c.id) && c.owner_id !== user.id && listed(c, user, url)
        && (!langs.length || langs.includes(c.language)) && (real !== '0' || !c.real_person)).slice(0, limit);
      return send(res, 200, { cards: cards.map((c) => charJson(c, user)) });
    }
    if (p === '/api/deck/swipes' && m === 'POST') {
      const b = await readJson(req);
      if (!b || !['pass', 'like', 'superlike'].includes(b.action)) return err(res, 400, 'invalid_argument', 'action must be pass, like or superlike');
      const c = characters.get(Number(b.character_id));
      if (!c || !canSee(c, user)) return err(res, 404, 'not_found', 'no such character');
      if (c.owner_id === user.id) return err(res, 400, 'invalid_argument', 'you cannot swipe your own character');
      if (swipes.some((s) => s.user_id === user.id && s.character_id === c.id && !s.undone)) return err(res, 409, 'conflict', 'this character was already swiped');
      swipes.push({ user_id: user.id, character_id: c.id, action: b.action, undone: false });
      const out = { action: b.action, character_id: c.id };
      if (b.action !== 'pass') { const conv = createConversation(user, c); out.conversation_id = conv.id; out.conversation = convJson(conv); }
      return send(res, 201, out);
    }
    if (p === '/api/deck/undo' && m === 'POST') {
      const last = [...swipes].reverse().find((s) => s.user_id === user.id && !s.undone);
      if (!last || last.action !== 'pass') return err(res, 409, 'nothing_to_undo', 'there is no pass to undo');
      last.undone = true;
      return send(res, 200, { character_id: last.character_id });
    }
    if (p === '/api/friends' && m === 'GET') {
      const items = [...conversations.values()].filter((c) => c.user_id === user.id).sort((a, b) => b.updated_at - a.updated_at)
        .map((c) => { const j = convJson(c); const sw = swipes.find((x) => x.user_id === user.id && x.character_id === c.character_id && !x.undone);
          return { character: charJson(characters.get(c.character_id), user), conversation_id: c.id, last_message: j.last_message, updated_at: c.updated_at, superlike: sw?.action === 'superlike', read_only: j.read_only, read_only_reason: j.read_only_reason }; });
      return send(res, 200, { items });
    }
    // conversations
    if (seg[0] === 'conversations') {
      if (seg.length === 1 && m === 'GET') return send(res, 200, { items: [...conversations.values()].filter((c) => c.user_id === user.id).map(convJson) });
      if (seg.length === 1 && m === 'POST') {
        const b = await readJson(req);
        const c = b && characters.get(Number(b.character_id));
        if (!c || !canSee(c, user)) return err(res, 404, 'not_found', 'no such character');
        return send(res, 201, convJson(createConversation(user, c)));
      }
      const conv = conversations.get(Number(seg[1]));
      if (!conv || conv.user_id !== user.id) return err(res, 404, 'not_found', 'no such conversation');
      // A conversation with a removed, hidden or now private character is history only.
      const writes = seg[2] === 'messages' && ((seg.length === 3 && m === 'POST') || ['regenerate', 'continue'].includes(seg[4]) || (seg.length === 4 && m === 'PATCH'));
      if (writes && readOnlyReason(characters.get(conv.character_id), user)) return err(res, 403, 'permission_denied', 'this character is no longer available: the conversation is read-only');
      if (seg.length === 2) {
        if (m === 'GET') return send(res, 200, convJson(conv));
        if (m === 'DELETE') {
          conversations.delete(conv.id);
          // Memory goes with the user's last conversation with the character.
          if (![...conversations.values()].some((c) => relKey(c) === relKey(conv))) relations.delete(relKey(conv));
          res.writeHead(204); return res.end();
        }
      }
      if (['memories', 'summary', 'prompt', 'export'].includes(seg[2]) || (seg[2] === 'messages' && seg[4] === 'forget')) {
        return handleMemory(req, res, url, user, conv, seg);
      }
      if (seg[2] === 'stop' && m === 'POST') {
        if (conv.generating) conv.generating.stopRequested = true;
        return send(res, 200, { stopped: true });
      }
      if (seg[2] === 'messages' && seg.length === 3) {
        if (m === 'GET') {
          const all = path_(conv.id);
          const limit = Math.min(200, Number(url.searchParams.get('limit') || 50));
          const cursor = url.searchParams.get('cursor');
          let end = all.length;
          if (cursor) end = all.findIndex((x) => x.id === Number(cursor));
          const start = Math.max(0, end - limit);
          return send(res, 200, { items: all.slice(start, end).map(msgJson), next_cursor: start > 0 ? String(all[start].id) : null });
        }
        if (m === 'POST') {
          const b = await readJson(req);
          if (!b || typeof b.content !== 'string' || !b.content.trim()) return err(res, 400, 'invalid_argument', 'content is required');
          if (conv.generating) return err(res, 409, 'busy', 'a reply is still being written');
          if (b.content.includes('/fail')) { res.setHeader('Retry-After', '5'); return err(res, 503, 'unavailable', 'no model is configured'); }
          if (b.content.includes('/quota')) { res.setHeader('Retry-After', '60'); return err(res, 429, 'resource_exhausted', 'you have sent the most messages allowed today'); }
          const p0 = path_(conv.id);
          const last = p0[p0.length - 1];
          const um = newMessage(conv, 'user', b.content, last ? last.id : 0);
          const am = newMessage(conv, 'assistant', '', um.id, { status: 'streaming', finish_reason: '' });
          const ch = characters.get(conv.character_id);
          generate(conv, am, replyText(b.content, ch), { slow: b.content.includes('/slow') });
          if (!(req.headers.accept || '').includes('text/event-stream')) {
            const wait = () => (am.status === 'streaming' ? setTimeout(wait, 20) : send(res, 200, { message: msgJson(um), reply: msgJson(am) }));
            return wait();
          }
          sseHead(res);
          res.write(`event: message\ndata: ${JSON.stringify(msgJson(um))}\n\n`);
          res.write(`event: reply\ndata: ${JSON.stringify(msgJson(am))}\n\n`);
          return attachStream(res, am, 0, { dropAfter: b.content.includes('/drop') ? 4 : 0 });
        }
      }
      if (seg[2] === 'messages' && seg.length >= 4) {
        const msg = messages.get(Number(seg[3]));
        if (!msg || msg.conversation_id !== conv.id) return err(res, 404, 'not_found', 'no such message');
        const op = seg[4];
        if (op === 'stream' && m === 'GET') {
          const from = Number(req.headers['last-event-id'] || 0) || 0;
          sseHead(res);
          return attachStream(res, msg, from);
        }
        if (op === 'regenerate' && m === 'POST') {
          if (msg.role !== 'assistant') return err(res, 400, 'invalid_argument', 'only replies can be regenerated');
          if (conv.generating) return err(res, 409, 'busy', 'a reply is still being written');
          const am = newMessage(conv, 'assistant', '', msg.parent_id, { status: 'streaming', finish_reason: '' });
          const parent = messages.get(msg.parent_id);
          generate(conv, am, replyText(parent ? parent.content : '', characters.get(conv.character_id)));
          sseHead(res);
          res.write(`event: reply\ndata: ${JSON.stringify(msgJson(am))}\n\n`);
          return attachStream(res, am, 0);
        }
        if (op === 'continue' && m === 'POST') {
          if (msg.role !== 'assistant') return err(res, 400, 'invalid_argument', 'only replies can be continued');
          if (conv.generating) return err(res, 409, 'busy', 'a reply is still being written');
          const from = msg.tokens.length;
          generate(conv, msg, ' ' + replyText('', null));
          sseHead(res);
          res.write(`event: reply\ndata: ${JSON.stringify(msgJson(msg))}\n\n`);
          return attachStream(res, msg, from);
        }
        if (op === 'select' && m === 'POST') {
          const b = await readJson(req);
          const sibs = siblings(msg);
          const k = b && Number(b.alternative);
          if (!Number.isInteger(k) || k < 0 || k >= sibs.length) return err(res, 400, 'invalid_argument', 'no such alternative');
          select(sibs[k]);
          return send(res, 200, msgJson(sibs[k]));
        }
        if (op === 'rating' && m === 'POST') {
          const b = await readJson(req);
          const s = b && Number(b.stars);
          if (!Number.isInteger(s) || s < 0 || s > 5) return err(res, 400, 'invalid_argument', 'stars must be 0..5');
          msg.rating = s;
          return send(res, 200, msgJson(msg));
        }
        if (!op && m === 'PATCH') {
          const b = await readJson(req);
          if (!b || typeof b.content !== 'string') return err(res, 400, 'invalid_argument', 'content is required');
          msg.content = b.content;
          return send(res, 200, msgJson(msg));
        }
        if (!op && m === 'DELETE') {
          const rel = relation(conv);
          // Deleting a message deletes its pin.
          const kill = (mid) => { for (const k of children(conv.id, mid)) kill(k.id); messages.delete(mid); rel.items = rel.items.filter((x) => x.message_id !== mid); };
          const sibs = siblings(msg).filter((s) => s !== msg);
          kill(msg.id);
          if (msg.selected && sibs.length) select(sibs[sibs.length - 1]);
          res.writeHead(204); return res.end();
        }
      }
    }
    return err(res, 404, 'not_found', `no route ${m} ${p}`);
  }

  // ---------- memory (docs/api.md "Memory")
  const chars = (s) => [...s].length;
  const approxTokens = (s) => Math.ceil(chars(s) / 4) + 4;
  function memoryContentError(content) {
    if (typeof content !== 'string' || !content.trim()) return 'content must be 1 to 2000 characters (it is empty)';
    if (chars(content) > MEMORY_LIMITS.max_chars) return `content must be 1 to ${MEMORY_LIMITS.max_chars} characters (it has ${chars(content)})`;
    return null;
  }
  function promptFor(conv, user, draft) {
    const ch = characters.get(conv.character_id);
    const rel = relation(conv);
    const who = user.display_name || user.username;
    const out = [];
    const push = (section, role, content, extra = {}) => { if (content) out.push({ role, content, section, ...extra }); };
    push('static', 'system', [ch.system_prompt || `You are ${ch.name}. Stay in character.`, ch.description, ch.personality && `${ch.name}'s personality: ${ch.personality}`, ch.scenario && `Scenario: ${ch.scenario}`].filter(Boolean).join('\n'));
    push('persona', 'system', [`You are talking with ${who}. Where the text above says "User", it means ${who}.`, user.persona && `About ${who}: ${user.persona}`].filter(Boolean).join('\n'));
    for (const x of rel.items) push('pinned', 'system', x.content);
    if (rel.summary && rel.summary.content) push('summary', 'system', `Story so far: ${rel.summary.content}`);
    const all = path_(conv.id).filter((x) => x.status !== 'streaming');
    const history = all.slice(-8);
    // Recall: older messages (not forgotten) sharing a word of 4+ letters with the draft.
    const words = new Set((draft.toLowerCase().match(/\p{L}{4,}/gu) || []));
    const recalled = all.slice(0, -8).filter((x) => !x.forgotten && (x.content.toLowerCase().match(/\p{L}{4,}/gu) || []).some((w) => words.has(w))).slice(-2);
    if (recalled.length) push('recalled', 'system', recalled.map((x) => x.content).join('\n'), { source_ids: recalled.map((x) => ({ message_id: x.id, conversation_id: x.conversation_id, created_at: x.created_at })) });
    for (const x of history) push('history', x.role, x.content);
    if (ch.post_history_instructions) push('post_history', 'system', ch.post_history_instructions);
    if (draft) push('draft', 'user', draft);
    const sections = {};
    for (const name of ['static', 'persona', 'pinned', 'summary', 'recalled', 'lorebook', 'history', 'post_history', 'draft']) sections[name] = 0;
    for (const x of out) sections[x.section] += approxTokens(x.content);
    return { messages: out, n_tokens: Object.values(sections).reduce((a, b) => a + b, 0), n_ctx: 4096, sections };
  }
  async function handleMemory(req, res, url, user, conv, seg) {
    const m = req.method;
    const rel = relation(conv);
    const list = () => ({ items: rel.items, summary: rel.summary, limits: MEMORY_LIMITS, demo_model: isGenerated });
    const renumber = () => rel.items.forEach((x, i) => { x.position = i; });
    if (seg[2] === 'memories' && seg.length === 3) {
      if (m === 'GET') return send(res, 200, list());
      if (m === 'POST') {
        const b = await readJson(req);
        if (!b) return err(res, 400, 'invalid_argument', 'body is not JSON');
        if (rel.items.length >= MEMORY_LIMITS.max_items) return err(res, 400, 'invalid_argument', `a friend keeps at most ${MEMORY_LIMITS.max_items} memories: delete one first`);
        const t = now();
        if (b.message_id !== undefined) {
          const msg = messages.get(Number(b.message_id));
          const owner = msg && conversations.get(msg.conversation_id);
          if (!msg || !owner || relKey(owner) !== relKey(conv)) return err(res, 404, 'not_found', 'no such message');
          if (rel.items.some((x) => x.message_id === msg.id)) return err(res, 409, 'already_exists', 'this message is pinned already');
          const pin = { id: id(), kind: 'pin', content: [...msg.content].slice(0, MEMORY_LIMITS.max_chars).join(''), message_id: msg.id, position: rel.items.length, created_at: t, updated_at: t };
          rel.items.push(pin);
          return send(res, 201, pin);
        }
        const e = memoryContentError(b.content);
        if (e) return err(res, 400, 'invalid_argument', e);
        const note = { id: id(), kind: 'note', content: b.content, message_id: null, position: rel.items.length, created_at: t, updated_at: t };
        rel.items.push(note);
        return send(res, 201, note);
      }
    }
    if (seg[2] === 'memories' && seg[3] === 'order' && seg.length === 4 && m === 'PUT') {
      const b = await readJson(req);
      const ids = b && Array.isArray(b.ids) ? b.ids.map(Number) : null;
      const have = rel.items.map((x) => x.id);
      if (!ids || ids.length !== have.length || new Set(ids).size !== ids.length || ids.some((x) => !have.includes(x))) return err(res, 400, 'invalid_argument', 'ids must be exactly the memory ids');
      rel.items = ids.map((x) => rel.items.find((y) => y.id === x));
      renumber();
      return send(res, 200, { items: rel.items });
    }
    if (seg[2] === 'memories' && seg.length === 4) {
      const item = rel.items.find((x) => x.id === Number(seg[3]));
      if (!item) return err(res, 404, 'not_found', 'no such memory');
      if (m === 'PATCH') {
        const b = await readJson(req);
        const e = memoryContentError(b && b.content);
        if (e) return err(res, 400, 'invalid_argument', e);
        Object.assign(item, { content: b.content, updated_at: now() });
        return send(res, 200, item);
      }
      if (m === 'DELETE') { rel.items = rel.items.filter((x) => x !== item); renumber(); res.writeHead(204); return res.end(); }
    }
    if (seg[2] === 'summary' && seg.length === 3 && m === 'PUT') {
      const b = await readJson(req);
      if (!b || typeof b.content !== 'string' || chars(b.content) > 4000) return err(res, 400, 'invalid_argument', 'content must be a string of at most 4000 characters');
      rel.summary = { version: (rel.summary ? rel.summary.version : 0) + 1, content: b.content, covers_until_message_id: rel.summary ? rel.summary.covers_until_message_id : null, edited: true, created_at: now() };
      return send(res, 200, rel.summary);
    }
    if (seg[2] === 'messages' && seg[4] === 'forget' && m === 'POST') {
      const msg = messages.get(Number(seg[3]));
      if (!msg || msg.conversation_id !== conv.id) return err(res, 404, 'not_found', 'no such message');
      msg.forgotten = true;
      res.writeHead(204); return res.end();
    }
    if (seg[2] === 'prompt' && seg.length === 3 && m === 'GET') return send(res, 200, promptFor(conv, user, url.searchParams.get('draft') || ''));
    if (seg[2] === 'export' && seg.length === 3 && m === 'GET') {
      const ch = characters.get(conv.character_id);
      const all = [...messages.values()].filter((x) => x.conversation_id === conv.id).sort((a, b) => a.id - b.id).map(msgJson);
      const body = { format: 'tokki-conversation', version: 1, conversation: convJson(conv), character: { id: ch.id, name: ch.name }, messages: all, memories: { items: rel.items, summary: rel.summary } };
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Disposition': `attachment; filename="tokki-conversation-${conv.id}.json"` });
      return res.end(JSON.stringify(body, null, 2));
    }
    return err(res, 405, 'method_not_allowed', `no route ${m} ${url.pathname}`);
  }

  function serveStatic(req, res, url) {
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    let file = path.join(dist, path.normalize(rel).replace(/^([/\\])+/, ''));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(dist, 'index.html');
    if (!fs.existsSync(file)) { res.writeHead(404, { 'Content-Type': 'text/plain' }); return res.end('web/dist not built'); }
    res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
    if (url.pathname.startsWith('/api/')) {
      handleApi(req, res, url).catch((e) => { if (!res.headersSent) err(res, 500, 'internal', String(e && e.message)); else res.end(); });
      return;
    }
    serveStatic(req, res, url);
  });
  server.on('connection', (s) => s.setNoDelay(true));
  return server;
}

function svgAvatar(name, seed) {
  const hues = [[340, 20], [200, 250], [150, 190], [30, 60], [265, 300]];
  const [h1, h2] = hues[seed % hues.length];
  const initial = [...name][0];
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 500"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${h1},80%,70%)"/><stop offset="1" stop-color="hsl(${h2},70%,45%)"/></linearGradient></defs><rect width="400" height="500" fill="url(#g)"/><circle cx="200" cy="190" r="90" fill="rgba(255,255,255,.35)"/><rect x="80" y="300" width="240" height="200" rx="120" fill="rgba(255,255,255,.35)"/><text x="200" y="222" font-family="sans-serif" font-size="96" text-anchor="middle" fill="#fff">${initial.replace(/[<&>]/g, '')}</text></svg>`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const get = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
  const port = Number(get('--port', process.env.PORT || 8090));
  const dist = path.resolve(get('--dist', path.join(here, '..', 'dist')));
  const [adminUser, ...rest] = get('--admin', process.env.TOKKI_MOCK_ADMIN || 'admin:adminadmin').split(':');
  const srv = createMockServer({ dist, generated: !args.includes('--real-model'), admins: [{ username: adminUser, password: rest.join(':') }] });
  srv.listen(port, '127.0.0.1', () => console.log(`mock tokki on http://127.0.0.1:${port} (dist: ${dist}); admin account: ${adminUser}`));
}
