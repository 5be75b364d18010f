// GET /api/v1/tasks as a search engine: every filter (URL parameters and the expression
// language, evaluated in the reader's time zone), full-text relevance and highlights, every
// sort with ties and nulls, cursor pagination under concurrent inserts, and isolation.
// A manual clock fixes "now": 20:00 on 10 March 2026 in New York, already 11 March in UTC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { expectProblem, problemFields } from './support/problems.js';

interface Item {
  id: string;
  title: string;
  due_date: string | null;
  due_at: string | null;
  priority: string;
  tags: string[];
  created_at: string;
  updated_at: string;
  search?: { rank: number; title: string; snippet: string };
}

describeWithDatabase('search, filters and sorting on GET /tasks', () => {
  const clock = new ManualClock('2026-03-11T00:00:00Z');
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: '100000000' } });
    [alice, bob] = await Promise.all([signUp(t.app, { time_zone: 'America/New_York' }), signUp(t.app)]);
  });
  afterAll(() => t.close());

  const create = async (user: TestUser, body: Record<string, unknown>) => {
    const res = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    clock.advance(1000);
    return res.body as Item;
  };
  const list = (user: TestUser, query: string) => call(t.app, 'GET', `/api/v1/tasks?${query}`, { token: user.token });
  const titles = async (user: TestUser, query: string): Promise<string[]> => {
    const res = await list(user, `${query}&limit=200`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.items as Item[]).map((i) => i.title);
  };
  const sorted = (xs: string[]) => [...xs].sort();
  const enc = encodeURIComponent;

  describe('filters, in the reader’s time zone', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await signUp(t.app, { time_zone: 'America/New_York' });
      const tasks: Array<Record<string, unknown>> = [
        // 23:30 local tonight is 03:30 UTC tomorrow: "today" for the user, not for UTC.
        { title: 'Pay rent', due_at: '2026-03-10T23:30', priority: 'high', tags: ['home', 'finance'] },
        { title: 'Call mom', due_at: '2026-03-10T09:00', priority: 'medium', tags: ['family'] },
        { title: 'File taxes', due_date: '2026-03-09', priority: 'urgent', tags: ['finance'] },
        { title: 'Buy milk', due_date: '2026-03-10', priority: 'low', tags: ['errands'] },
        { title: 'Plan trip', due_date: '2026-03-11', priority: 'low' },
        { title: 'Read book', due_date: '2026-03-16' },
        { title: 'Someday', priority: 'none' },
        { title: 'Next week', due_at: '2026-03-17T10:00', tags: ['work'] },
      ];
      for (const body of tasks) await create(user, body);
      const done = await create(user, { title: 'Old done', due_date: '2026-03-01', tags: ['home'] });
      await call(t.app, 'POST', `/api/v1/tasks/${done.id}/complete`, { token: user.token });
    });

    for (const [query, expected] of [
      ['due=today', ['Pay rent', 'Call mom', 'Buy milk']],
      ['due=overdue', ['Call mom', 'File taxes']],
      ['due=tomorrow', ['Plan trip']],
      ['due=next_7_days', ['Pay rent', 'Call mom', 'Buy milk', 'Plan trip', 'Read book']],
      ['due=none', ['Someday']],
      ['due_from=2026-03-11&due_to=2026-03-16', ['Plan trip', 'Read book']],
      ['due_from=2026-03-16', ['Read book', 'Next week']],
      ['due_to=2026-03-09', ['File taxes']],
      // An instant range covers the all-day tasks of the days it touches.
      ['due_from=2026-03-11T03:00:00Z&due_to=2026-03-11T04:00:00Z', ['Pay rent', 'Buy milk']],
      ['priority=high,urgent', ['Pay rent', 'File taxes']],
      ['priority=none&priority=low', ['Buy milk', 'Plan trip', 'Read book', 'Someday', 'Next week']],
      ['tag=finance', ['Pay rent', 'File taxes']],
      ['tag=HOME&tag=errands', ['Pay rent', 'Buy milk']],
      ['tag_all=home&tag_all=finance', ['Pay rent']],
      ['tag_none=finance&tag_none=work', ['Call mom', 'Buy milk', 'Plan trip', 'Read book', 'Someday']],
      ['tagged=false', ['Plan trip', 'Read book', 'Someday']],
      ['tagged=true&due=today', ['Pay rent', 'Call mom', 'Buy milk']],
      ['status=completed', ['Old done']],
      ['status=all&tag=home', ['Pay rent', 'Old done']],
      // A completion filter implies completed tasks: status defaults to all.
      ['completed_from=2026-03-10&completed_to=2026-03-10', ['Old done']],
      ['completed_from=2026-03-11', []],
      ['created_to=2026-03-09', []],
      [
        'created_from=2026-03-10&created_to=2026-03-10',
        ['Pay rent', 'Call mom', 'File taxes', 'Buy milk', 'Plan trip', 'Read book', 'Someday', 'Next week'],
      ],
    ] as const) {
      it(`?${query}`, async () => {
        expect(sorted(await titles(user, query))).toEqual(sorted([...expected]));
      });
    }

    for (const [expression, expected] of [
      ['(today | overdue) & #finance & !p4', ['Pay rent', 'File taxes']],
      ['due before: +7 days & no tags', ['Plan trip', 'Read book']],
      ['!overdue & !no date & p4', ['Buy milk', 'Plan trip', 'Read book', 'Next week']],
      ['!(today | overdue)', ['Plan trip', 'Read book', 'Someday', 'Next week']],
      ['@home | #ERRANDS', ['Pay rent', 'Buy milk']],
      ['due: 2026-03-11 | due after: 2026-03-16', ['Plan trip', 'Next week']],
      ['7 days & priority: low', ['Buy milk', 'Plan trip']],
      ['search: rent | search: milk', ['Pay rent', 'Buy milk']],
      ['completed before: tomorrow', ['Old done']],
      ['all', ['Pay rent', 'Call mom', 'File taxes', 'Buy milk', 'Plan trip', 'Read book', 'Someday', 'Next week']],
      ['#%_\\', []],
      ['#"\'; drop table tasks; --"', []],
    ] as const) {
      it(`filter=${expression}`, async () => {
        expect(sorted(await titles(user, `filter=${enc(expression)}`))).toEqual(sorted([...expected]));
      });
    }

    it('recurring and has_reminder filter on repeat rules and pending reminders, as parameters and terms', async () => {
      const other = await signUp(t.app);
      await create(other, { title: 'Water plants', due_date: '2026-03-12', recurrence: { rule: 'FREQ=DAILY' } });
      const dentist = await create(other, { title: 'Dentist', due_at: '2026-03-20T10:00' });
      await create(other, { title: 'Plain' });
      const reminder = await call(t.app, 'POST', `/api/v1/tasks/${dentist.id}/reminders`, {
        token: other.token,
        body: { remind_at: '2026-03-19T10:00:00Z' },
      });
      expect(reminder.status, JSON.stringify(reminder.body)).toBe(201);
      expect(await titles(other, 'recurring=true')).toEqual(['Water plants']);
      expect(sorted(await titles(other, 'recurring=false'))).toEqual(['Dentist', 'Plain']);
      expect(await titles(other, 'has_reminder=true')).toEqual(['Dentist']);
      expect(sorted(await titles(other, `filter=${enc('recurring | has reminder')}`))).toEqual(['Dentist', 'Water plants']);
      expect(await titles(other, `filter=${enc('no reminders & !recurring')}`)).toEqual(['Plain']);
    });

    it('URL parameters and the filter expression combine with AND', async () => {
      expect(sorted(await titles(user, `priority=low&filter=${enc('today | tomorrow')}`))).toEqual(['Buy milk', 'Plan trip']);
    });

    it('a syntax error answers 422 with the field and the column of the error', async () => {
      const res = await list(user, `filter=${enc('(today | overdue) && #work')}`);
      expectProblem(res, 422, 'validation_failed');
      expect(problemFields(res)).toEqual(['query.filter']);
      expect(res.body.column).toBe(20);
      expect(res.body.errors[0].message).toContain("expected a filter term, found '&' (column 20)");
      const injection = await list(user, `filter=${enc("'; drop table tasks; --")}`);
      expectProblem(injection, 422, 'validation_failed');
      expect(injection.body.column).toBe(1);
      expect((await titles(user, 'status=all')).length).toBe(9);
    });

    it('refuses bad parameters with 422 on the parameter', async () => {
      for (const [query, field] of [
        [`q=${'a'.repeat(501)}`, 'query.q'],
        ['due=someday', 'query.due'],
        ['due_from=2026-13-01', 'query.due_from'],
        ['priority=p1', 'query.priority.0'],
        ['tagged=maybe', 'query.tagged'],
        ['recurring=yes', 'query.recurring'],
        ['order=up', 'query.order'],
        ['sort=rank', 'query.sort'],
        [`filter=${'p1 | '.repeat(500)}p1`, 'query.filter'],
        ['view_id=nope', 'query.view_id'],
      ] as const) {
        const res = await list(user, query);
        expectProblem(res, 422, 'validation_failed');
        expect(problemFields(res)).toContain(field);
      }
    });
  });

  describe('full-text search', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await signUp(t.app);
      for (const body of [
        { title: 'Notes from the meeting', description: 'The invoice for March is attached' },
        { title: 'Send invoice to ACME', description: 'Net 30' },
        { title: 'Running shoes', description: 'Size 44 <b>bold</b> & cheap' },
        { title: 'Pay the rent', description: 'Landlord wants it early' },
        { title: 'Rent a car', description: 'pay at the desk' },
        { title: 'Quarterly review', tags: ['finance'] },
      ]) {
        await create(user, body);
      }
    });
    const search = async (q: string, extra = '') => {
      const res = await list(user, `q=${enc(q)}${extra}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.items as Item[];
    };

    it('ranks a title hit above a description hit and highlights both', async () => {
      const items = await search('invoice');
      expect(items.map((i) => i.title)).toEqual(['Send invoice to ACME', 'Notes from the meeting']);
      const [first, second] = items as [Item, Item];
      expect(first.search?.rank).toBeGreaterThan(second.search?.rank ?? 1);
      expect(first.search?.title).toBe('Send <mark>invoice</mark> to ACME');
      expect(second.search?.title).toBe('Notes from the meeting');
      expect(second.search?.snippet).toContain('<mark>invoice</mark>');
    });

    it('follows websearch syntax: stemming, "phrases", -exclusions and or', async () => {
      expect((await search('invoices')).map((i) => i.title)).toHaveLength(2);
      expect((await search('"pay the rent"')).map((i) => i.title)).toEqual(['Pay the rent']);
      expect(sorted((await search('rent pay')).map((i) => i.title))).toEqual(['Pay the rent', 'Rent a car']);
      expect((await search('rent -car')).map((i) => i.title)).toEqual(['Pay the rent']);
      expect(sorted((await search('car or shoes')).map((i) => i.title))).toEqual(['Rent a car', 'Running shoes']);
    });

    it('matches the last word as it is typed, including past its stem', async () => {
      for (const typed of ['r', 'ru', 'run', 'runn', 'runni', 'runnin', 'running']) {
        expect(
          (await search(typed)).map((i) => i.title),
          typed,
        ).toContain('Running shoes');
      }
      expect((await search('invo')).map((i) => i.title)).toHaveLength(2);
      // A finished word (followed by a space) is no prefix.
      expect(await search('invo ')).toEqual([]);
    });

    it('the first two keystrokes list matches newest first; from the third, best match first', async () => {
      const strong = await create(user, { title: 'Refactor the report renderer' });
      const weak = await create(user, { title: 'Zebra crossing', description: 'retro' });
      try {
        // Two characters: no ranking of every match, the newest first (here the weaker match).
        const firstKeys = (await search('re')).map((i) => i.title);
        expect(firstKeys.indexOf('Zebra crossing')).toBeLessThan(firstKeys.indexOf('Refactor the report renderer'));
        // Three characters, or sort=rank: best match first.
        for (const [q, extra] of [
          ['ret', ''],
          ['re', '&sort=rank'],
        ] as const) {
          const ranked = await search(q, extra);
          const ranks = ranked.map((i) => i.search?.rank ?? 0);
          expect(ranks, q).toEqual([...ranks].sort((a, b) => b - a));
        }
        const rankedTwo = (await search('re', '&sort=rank')).map((i) => i.title);
        expect(rankedTwo.indexOf('Refactor the report renderer')).toBeLessThan(rankedTwo.indexOf('Zebra crossing'));
      } finally {
        for (const task of [strong, weak]) await call(t.app, 'DELETE', `/api/v1/tasks/${task.id}`, { token: user.token });
      }
    });

    it('searches tag names too, and follows tag changes at once', async () => {
      expect((await search('finance')).map((i) => i.title)).toEqual(['Quarterly review']);
      const task = await create(user, { title: 'Tagged later' });
      await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, { token: user.token, body: { tags: ['Deep Work', 'finance'] } });
      expect(sorted((await search('finance')).map((i) => i.title))).toEqual(['Quarterly review', 'Tagged later']);
      expect((await search('deep')).map((i) => i.title)).toEqual(['Tagged later']);
      expect(await titles(user, `filter=${enc('#"deep work"')}`)).toEqual(['Tagged later']);
      await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, { token: user.token, body: { tags: [] } });
      expect(await search('deep')).toEqual([]);
      await call(t.app, 'DELETE', `/api/v1/tasks/${task.id}`, { token: user.token });
    });

    it('escapes HTML in highlights; injection attempts are only text', async () => {
      const [shoes] = await search('cheap');
      expect(shoes?.search?.snippet).toBe('Size 44 &lt;b&gt;bold&lt;/b&gt; &amp; <mark>cheap</mark>');
      expect(await search("'; drop table tasks; --")).toEqual([]);
      expect(await search('%_\\')).toEqual([]);
      expect(await search('tasks')).toEqual([]);
      expect((await titles(user, 'status=all')).length).toBe(6);
    });

    it('pages through ranked results in rank order with ties by id, each match once, with the same ranks and highlights in any sort', async () => {
      const ranked = await signUp(t.app);
      // Title hits, description hits, tag hits, repeated words: several rank levels, many ties.
      for (let i = 0; i < 9; i++) {
        await create(ranked, { title: `Ledger ${i}`, description: i % 3 === 0 ? 'ledger ledger' : '' });
        await create(ranked, { title: `Note ${i}`, description: 'see the ledger' });
        await create(ranked, { title: `Box ${i}`, tags: ['ledger'] });
      }
      const done = await create(ranked, { title: 'Ledger closed' });
      await call(t.app, 'POST', `/api/v1/tasks/${done.id}/complete`, { token: ranked.token });
      for (const status of ['open', 'all']) {
        const whole = await list(ranked, `q=ledger&status=${status}&limit=200`);
        expect(whole.status).toBe(200);
        const all = whole.body.items as Item[];
        expect(all).toHaveLength(status === 'open' ? 27 : 28);
        const key = (i: Item) => [i.search?.rank ?? 0, i.id] as const;
        for (let n = 1; n < all.length; n++) {
          const [rankBefore, idBefore] = key(all[n - 1] as Item);
          const [rank, id] = key(all[n] as Item);
          expect(rankBefore > rank || (rankBefore === rank && idBefore > id), `${n}`).toBe(true);
        }
        expect(new Set(all.map((i) => i.search?.rank)).size).toBeGreaterThan(2);
        const paged: Item[] = [];
        let cursor: string | null = null;
        do {
          const res = await list(ranked, `q=ledger&status=${status}&limit=4${cursor ? `&cursor=${enc(cursor)}` : ''}`);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          paged.push(...(res.body.items as Item[]));
          cursor = res.body.next_cursor;
        } while (cursor);
        expect(paged).toEqual(all);
        // Ascending: the same rows in reverse, page by page too.
        const ascending: Item[] = [];
        cursor = null;
        do {
          const res = await list(
            ranked,
            `q=ledger&status=${status}&sort=rank&order=asc&limit=5${cursor ? `&cursor=${enc(cursor)}` : ''}`,
          );
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          ascending.push(...(res.body.items as Item[]));
          cursor = res.body.next_cursor;
        } while (cursor);
        expect(ascending).toEqual([...all].reverse());
        // Another sort computes rank and highlights for its page only: the same values.
        const byTitle = (await list(ranked, `q=ledger&status=${status}&sort=title&limit=200`)).body.items as Item[];
        expect(byTitle).toHaveLength(all.length);
        const searchOf = new Map(all.map((i) => [i.id, i.search]));
        for (const item of byTitle) expect(item.search).toEqual(searchOf.get(item.id));
      }
    });

    it('an empty q is no text filter, and other sorts work with q', async () => {
      expect((await search('')).length).toBe(6);
      expect((await search('  ')).every((i) => i.search === undefined)).toBe(true);
      expect((await search('rent', '&sort=title')).map((i) => i.title)).toEqual(['Pay the rent', 'Rent a car']);
    });
  });

  describe('sorting', () => {
    let user: TestUser;
    let all: Item[];
    beforeAll(async () => {
      user = await signUp(t.app, { time_zone: 'Europe/Berlin' });
      // Ties on every key (same due, priority, title) and tasks without a due date.
      for (const [i, body] of [
        { title: 'beta', priority: 'high', due_date: '2026-03-12' },
        { title: 'Alpha', priority: 'high', due_at: '2026-03-12T09:00' },
        { title: 'alpha', priority: 'low' },
        { title: 'gamma', priority: 'high', due_date: '2026-03-12' },
        { title: 'delta', priority: 'none', due_at: '2026-03-11T23:00' },
        { title: 'beta', priority: 'urgent' },
        { title: 'epsilon', priority: 'low', due_date: '2026-03-20' },
      ].entries()) {
        if (i === 3) clock.advance(-1000); // two tasks with the same created_at
        await create(user, body);
      }
      const res = await list(user, 'limit=200');
      all = res.body.items;
      // Make updated_at differ from created_at order.
      await call(t.app, 'PATCH', `/api/v1/tasks/${all.find((x) => x.title === 'epsilon')?.id}`, {
        token: user.token,
        body: { description: 'touched' },
      });
      all = (await list(user, 'limit=200')).body.items;
    });

    const byId = (a: Item, b: Item) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const PRIORITY = ['none', 'low', 'medium', 'high', 'urgent'];
    const dueKey = (x: Item) =>
      x.due_at ? Date.parse(x.due_at) : x.due_date ? Date.parse(`${x.due_date}T00:00:00+01:00`) : null; // Berlin, winter
    const keyOf: Record<string, (x: Item) => number | string | null> = {
      due: dueKey,
      priority: (x) => PRIORITY.indexOf(x.priority),
      created: (x) => x.created_at,
      updated: (x) => x.updated_at,
      title: (x) => x.title.toLowerCase(),
    };
    function expectedOrder(sort: string, order: 'asc' | 'desc'): string[] {
      const sign = order === 'asc' ? 1 : -1;
      const key = keyOf[sort] as (x: Item) => number | string | null;
      return [...all]
        .sort((a, b) => {
          const [ka, kb] = [key(a), key(b)];
          if (ka === null || kb === null) return ka === kb ? sign * byId(a, b) : ka === null ? 1 : -1; // nulls last
          if (ka !== kb) return sign * (ka < kb ? -1 : 1);
          return sign * byId(a, b);
        })
        .map((x) => x.id);
    }

    for (const sort of ['due', 'priority', 'created', 'updated', 'title']) {
      for (const order of ['asc', 'desc'] as const) {
        it(`sort=${sort}&order=${order}: ties broken by id, no due date last, and the same order page by page`, async () => {
          const expected = expectedOrder(sort, order);
          const whole = await list(user, `sort=${sort}&order=${order}&limit=200`);
          expect(whole.body.items.map((x: Item) => x.id)).toEqual(expected);
          const paged: string[] = [];
          let cursor: string | null = null;
          do {
            const res = await list(user, `sort=${sort}&order=${order}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
            expect(res.status, JSON.stringify(res.body)).toBe(200);
            paged.push(...res.body.items.map((x: Item) => x.id));
            cursor = res.body.next_cursor;
          } while (cursor);
          expect(paged).toEqual(expected);
        });
      }
    }

    it('defaults: newest first; due ascending; a cursor of another sort is refused', async () => {
      expect((await list(user, 'limit=200')).body.items.map((x: Item) => x.id)).toEqual(expectedOrder('created', 'desc'));
      expect((await list(user, 'sort=due&limit=200')).body.items.map((x: Item) => x.id)).toEqual(expectedOrder('due', 'asc'));
      const first = await list(user, 'sort=due&limit=2');
      const other = await list(user, `sort=title&limit=2&cursor=${first.body.next_cursor}`);
      expectProblem(other, 422, 'validation_failed');
      expect(problemFields(other)).toEqual(['query.cursor']);
      const filtered = await list(user, `sort=due&limit=2&priority=high&cursor=${first.body.next_cursor}`);
      expect(problemFields(filtered)).toEqual(['query.cursor']);
    });
  });

  describe('pagination under concurrent inserts', () => {
    it('every task that existed before paging is seen exactly once, whatever is inserted meanwhile', async () => {
      const user = await signUp(t.app);
      const before = new Set<string>();
      for (let i = 0; i < 24; i++) {
        before.add(
          (
            await create(user, {
              title: `existing ${i}`,
              priority: i % 3 === 0 ? 'high' : 'low',
              due_date: `2026-04-${String((i % 9) + 1).padStart(2, '0')}`,
            })
          ).id,
        );
      }
      for (const sort of ['created', 'due', 'priority', 'title']) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let n = 0;
        do {
          // Inserts that sort before, among and after the rows being paged, while paging.
          const inserting = [0, 1, 2].map((k) =>
            call(t.app, 'POST', '/api/v1/tasks', {
              token: user.token,
              body: { title: `new ${sort} ${n} ${k}`, priority: 'high', due_date: `2026-04-0${((n + k) % 9) + 1}` },
            }),
          );
          const page = list(user, `sort=${sort}&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
          const [res] = await Promise.all([page, ...inserting]);
          expect(res.status).toBe(200);
          seen.push(...res.body.items.map((x: Item) => x.id));
          cursor = res.body.next_cursor;
          n++;
        } while (cursor);
        expect(new Set(seen).size, `${sort}: no duplicates`).toBe(seen.length);
        expect(seen.filter((id) => before.has(id)).length, `${sort}: every original task once`).toBe(before.size);
      }
    });
  });

  describe('isolation', () => {
    it('another user’s tasks and tags never appear or match', async () => {
      await create(alice, { title: 'Alice secret invoice', tags: ['shared-name'] });
      await create(bob, { title: 'Bob secret invoice', tags: ['shared-name'], due_date: '2026-03-10' });
      for (const query of ['q=secret', 'tag=shared-name', `filter=${enc('#shared-name | search: invoice')}`, 'status=all']) {
        const own = await titles(alice, query);
        expect(own, query).toContain('Alice secret invoice');
        expect(own, query).not.toContain('Bob secret invoice');
      }
      expect(await titles(alice, 'due=today')).not.toContain('Bob secret invoice');
      const bobInbox = await list(alice, `list_id=${bob.inboxListId}&status=all`);
      expect(bobInbox.body.items).toEqual([]);
    });
  });
});
