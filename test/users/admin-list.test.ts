import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildAdminApp, createUser } from '../helpers/admin.js'

interface Item { id: string, email: string, username: string, name: string | null, is_active: boolean, created_at: string }

test('GET /users pages, sorts, filters and searches, with the matching total', async (t) => {
  const { app, admin, adminEmail } = await buildAdminApp(t)
  const get = async (query: string) => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/users${query}`, headers: admin.headers })
    assert.equal(response.statusCode, 200, `${query}: ${response.body}`)
    return response.json() as { items: Item[], total: number, limit: number, offset: number }
  }
  const people = [
    { email: 'carol.jones@example.org', username: 'cjones', name: 'Carol Jones' },
    { email: 'dave@example.net', username: 'dave_100%', name: null },
    { email: 'erin@sample.io', username: 'Erin.B', name: 'Erin Björk' },
    { email: 'frank@example.org', username: 'frankly', name: 'Frank Jonesy', is_active: false },
    { email: 'grace@x.io', username: 'g_race', name: 'Grace Hopper' }
  ]
  for (const p of people) {
    await createUser(app, admin.headers, { ...p, username: p.username.replace('%', ''), ...(p.name === null ? {} : { name: p.name }) })
  }

  const all = await get('')
  assert.equal(all.total, 6)
  assert.equal(all.limit, 20)
  assert.equal(all.offset, 0)
  assert.equal(all.items[0]!.email, adminEmail)
  const created = all.items.map((u) => u.created_at)
  assert.deepEqual(created, [...created].sort())

  const byEmail = await get('?sort=email&order=desc')
  assert.deepEqual(byEmail.items.map((u) => u.email), all.items.map((u) => u.email).sort().reverse())
  const byUsername = await get('?sort=username')
  assert.deepEqual(byUsername.items.map((u) => u.username.toLowerCase()), all.items.map((u) => u.username.toLowerCase()).sort())
  const byName = await get('?sort=name')
  const named = byName.items.map((u) => u.name).filter((n) => n !== null)
  assert.deepEqual(named, [...named].sort())

  // Every page, forward and from the far end, agrees with the full list.
  for (const sort of ['created_at', 'email', 'username', 'name']) {
    for (const order of ['asc', 'desc']) {
      const full = await get(`?sort=${sort}&order=${order}`)
      const paged: string[] = []
      for (let offset = 0; offset < full.total; offset += 2) {
        const page = await get(`?sort=${sort}&order=${order}&limit=2&offset=${offset}`)
        assert.equal(page.total, 6)
        paged.push(...page.items.map((u) => u.id))
      }
      assert.deepEqual(paged, full.items.map((u) => u.id), `${sort} ${order}`)
      const last = await get(`?sort=${sort}&order=${order}&limit=4&offset=5`)
      assert.deepEqual(last.items.map((u) => u.id), full.items.slice(5).map((u) => u.id))
    }
  }
  const beyond = await get('?offset=50')
  assert.deepEqual(beyond.items, [])
  assert.equal(beyond.total, 6)

  const inactive = await get('?is_active=false')
  assert.deepEqual(inactive.items.map((u) => u.email), ['frank@example.org'])
  assert.equal(inactive.total, 1)
  assert.equal((await get('?is_active=true')).total, 5)

  const search = async (term: string, extra = '') => (await get(`?search=${encodeURIComponent(term)}${extra}`))
  const emails = (page: { items: Item[] }) => page.items.map((u) => u.email).sort()
  assert.deepEqual(emails(await search('JONES')), ['carol.jones@example.org', 'frank@example.org'])
  assert.equal((await search('JONES')).total, 2)
  assert.deepEqual(emails(await search('jones', '&is_active=true')), ['carol.jones@example.org'])
  assert.deepEqual(emails(await search('example.org')), ['carol.jones@example.org', 'frank@example.org'])
  assert.deepEqual(emails(await search('erin.b')), ['erin@sample.io'])
  assert.deepEqual(emails(await search('hopper')), ['grace@x.io'])
  assert.deepEqual(emails(await search('  hopper  ')), ['grace@x.io'])
  // Short terms (below a trigram) are matched too.
  assert.deepEqual(emails(await search('x.')), ['grace@x.io'])
  assert.deepEqual(emails(await search('fr')), ['frank@example.org'])
  // LIKE wildcards and quotes are plain characters in a search.
  assert.equal((await search('%')).total, 0)
  assert.deepEqual(emails(await search('g_r')), ['grace@x.io'])
  assert.equal((await search('e_r')).total, 0)
  assert.equal((await search('"jones')).total, 0)
  assert.equal((await search('nobody-matches-this')).total, 0)
  assert.equal((await search('')).total, 6)
})

test('GET /users: bad query parameters are 422 validation_error', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  for (const query of ['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'sort=password_hash', 'order=up', 'is_active=maybe', `search=${'x'.repeat(101)}`]) {
    const response = await app.inject({ method: 'GET', url: `/api/v1/users?${query}`, headers: admin.headers })
    assert.equal(response.statusCode, 422, query)
    assert.equal(response.json().code, 'validation_error')
    assert.ok(response.json().errors.length > 0)
  }
  const ok = await app.inject({ method: 'GET', url: '/api/v1/users?limit=100&offset=0&sort=name&order=desc&is_active=true&whatever=1', headers: admin.headers })
  assert.equal(ok.statusCode, 200)
})
