# siarkan service image: slim Python, non-root, health-checked.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SIARKAN_CONFIG=/app/config/siarkan.yaml
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 siarkan && mkdir -p /app/data /app/feeds \
    && chown -R siarkan:siarkan /app
WORKDIR /app
COPY --chown=siarkan:siarkan config ./config
COPY --chown=siarkan:siarkan samples ./samples
USER siarkan
EXPOSE 8080
ENV SIARKAN_SERVER_HOST=0.0.0.0
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["siarkan"]
CMD ["serve"]
