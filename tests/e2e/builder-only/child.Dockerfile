# A Dockerfile that builds on the builder image: its build steps need root.
FROM builder
COPY tool /opt/greet-tool
RUN npm install --global --offline --no-audit --no-fund /opt/greet-tool && greet
COPY server.js ./
EXPOSE 3000
CMD ["node", "server.js"]
