# syntax=docker/dockerfile:1
# The API and the worker are one image; the worker is `--role=worker`, migrations `server/cli.ts migrate`.
# test/deploy/dockerfile.test.ts runs these steps as a script (no docker engine there): keep to
# FROM, WORKDIR, ENV, COPY [--from=], RUN, USER, EXPOSE, HEALTHCHECK CMD and CMD in exec form.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
# The element (dist/widget) and the console (dist/console).
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
ENV PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY tsconfig.json ./
COPY server ./server
COPY contract ./contract
COPY migrations ./migrations
COPY miniprogram ./miniprogram
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node_modules/.bin/tsx", "server/main.ts"]
