FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DEBUG=1 python manage.py collectstatic --noinput
RUN useradd --system --uid 1000 harvester && chown -R harvester /app
USER harvester
EXPOSE 8000
CMD ["gunicorn", "harvester.wsgi", "-b", "0.0.0.0:8000", "--access-logfile", "-"]
