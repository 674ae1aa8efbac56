# The server as a container image: docker build -t prospect-events .   (compose.yaml runs it on PostgreSQL)

# Build stage: the SDK publishes the server. Project files first, so the restore layer survives source edits.
# global.json is left out on purpose: it pins a feature band the image's SDK may not have.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ProspectEvents.Domain/ProspectEvents.Domain.csproj src/ProspectEvents.Domain/
COPY src/ProspectEvents.Storage/ProspectEvents.Storage.csproj src/ProspectEvents.Storage/
COPY src/ProspectEvents.Server/ProspectEvents.Server.csproj src/ProspectEvents.Server/
RUN dotnet restore src/ProspectEvents.Server/ProspectEvents.Server.csproj
COPY src/ src/
RUN dotnet publish src/ProspectEvents.Server/ProspectEvents.Server.csproj -c Release --no-restore -o /app/publish

# Runtime stage: the ASP.NET Core runtime only, as the image's non-root user, with the SQLite database on a volume.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app/publish .
RUN mkdir -p /data && chown "$APP_UID" /data
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Storage__ConnectionString="Data Source=/data/prospect-events.db"
VOLUME /data
EXPOSE 8080
USER $APP_UID
# The image has no curl: bash asks /readyz itself (200 once the database answers).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && head -n 1 <&3 | grep -q " 200 "'
ENTRYPOINT ["dotnet", "ProspectEvents.Server.dll"]
