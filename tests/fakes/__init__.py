"""Local fakes of the messaging platforms' own servers, which cannot run here."""
