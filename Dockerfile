# The Cordon hub. Build: docker build -t cordon-hub .   (see docker-compose.yml)
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/cordon cordon \
    && mkdir -p /var/lib/cordon && chown cordon /var/lib/cordon
WORKDIR /opt/cordon
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY client ./client
COPY certs ./certs
RUN pip install --no-cache-dir .
USER cordon
EXPOSE 8443
ENTRYPOINT ["cordon"]
CMD ["serve", "--host", "0.0.0.0", "--data-dir", "/var/lib/cordon"]
