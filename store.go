package ipdesk

// Store is everything the storage provides: one implementation (package
// sqldb) serves the web UI, the API, the CLI and the importers alike.
type Store interface {
	SpaceService
	PrefixService
	AddressService
	LocationService
	AccessLevelService
	AuditService
	UserService
	GroupService
	SessionService
	TimetableService
	LessonService
	OverrideService
	LogbookService
	CallService
	DirectoryService
	TOTPService
}
