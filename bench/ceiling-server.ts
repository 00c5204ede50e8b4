// The ceiling of a JSON HTTP service on this machine: a bare Fastify with one static GET and
// one JSON echo POST, nothing else (no hooks, no logging). Run as its own process by run.ts.
import Fastify from 'fastify'

const port = Number(process.argv[2] ?? 0)
const app = Fastify({ logger: false })
const payload = { id: '0190c0de-0000-7000-8000-000000000000', email: 'ceiling@example.com', username: 'ceiling', name: 'Ceiling', role: 'member' }

app.get('/static', async () => payload)
app.post('/echo', async (request) => request.body)

await app.listen({ host: '127.0.0.1', port })
process.on('SIGINT', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
