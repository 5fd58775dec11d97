# Conclave: one container for the whole modular monolith.
#   docker build -t conclave .
#   docker run -p 8080:8080 -e ConnectionStrings__Conclave="Host=db;Database=conclave;Username=...;Password=..." \
#     -e Conclave__Sandbox__DockerEndpoint=unix:///var/run/docker.sock -v /var/run/docker.sock:/var/run/docker.sock conclave
# Sandboxes are sibling containers started through the Docker API (the sandbox image is built
# from deploy/sandbox/Containerfile); user code never runs inside this container.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props Monolith.sln ./
COPY src/Host/Conclave.Host.csproj src/Host/
COPY src/Modules/Sessions/Conclave.Sessions.csproj src/Modules/Sessions/
COPY src/Modules/Agents/Conclave.Agents.csproj src/Modules/Agents/
COPY src/Modules/Sandbox/Conclave.Sandbox.csproj src/Modules/Sandbox/
COPY src/Modules/Knowledge/Conclave.Knowledge.csproj src/Modules/Knowledge/
RUN dotnet restore src/Host/Conclave.Host.csproj
COPY src/ src/
RUN dotnet publish src/Host/Conclave.Host.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_RUNNING_IN_CONTAINER=true
EXPOSE 8080
USER $APP_UID
# Probe /health/live and /health/ready over HTTP (the image carries no curl).
ENTRYPOINT ["dotnet", "Conclave.Host.dll"]
