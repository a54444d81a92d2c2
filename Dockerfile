# The Cordon hub. Build: docker build -t cordon-hub .   (see docker-compose.yml)
#
# Runs as the unprivileged user cordon (uid/gid 10001). The container needs, read-only:
# the CA certificate, the CRL, the CA's index.json and issued/ certificates (public), and
# the hub's own server.pem/server.key; never the CA's key (ca.key) unless the operator
# chooses to let the hub issue credentials itself (README "Deployment").
# deploy/ca-export.sh (installed as cordon-ca-export) copies exactly those, owned by 10001.
FROM python:3.11-slim
RUN groupadd --system --gid 10001 cordon \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/cordon cordon \
    && mkdir -p /var/lib/cordon /etc/cordon/ca /etc/cordon/tls \
    && chown cordon:cordon /var/lib/cordon
WORKDIR /opt/cordon
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY client ./client
COPY certs ./certs
RUN pip install --no-cache-dir .
COPY deploy/ca-export.sh /usr/local/bin/cordon-ca-export
USER cordon
# 8443: the hub (wss, mutual TLS); 9090: /healthz, /readyz, /metrics (plain HTTP)
EXPOSE 8443 9090
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 \
    CMD ["cordon", "probe", "http://127.0.0.1:9090/readyz"]
ENTRYPOINT ["cordon"]
CMD ["serve", "--host", "0.0.0.0", "--data-dir", "/var/lib/cordon", \
     "--http-listen", "0.0.0.0:9090", "--ca-dir", "/etc/cordon/ca", \
     "--server-cert", "/etc/cordon/tls/server.pem", "--server-key", "/etc/cordon/tls/server.key"]
