/**
 * The one registry of error codes: every code any part of the server, the CLI or the
 * verifier throws, with the HTTP status it is answered with, its fixed message in English
 * and Chinese, and what the caller should do. Codes are stable (clients, the consoles and
 * the scan page switch on them): add codes here, never rename or reuse one. Values that
 * explain one failure go in the error's `details`, so the messages stay fixed strings that
 * translators review once. `docs/error-codes.md` is rendered from this file
 * (`npm run cli -- error-codes`); a test fails when the two differ.
 *
 * Nothing here imports anything: the verifier and the scan page take only the code type.
 */

export interface ErrorDefinition {
  /** The HTTP status of the problem response; 500 is answered as `internal.error` and logged. */
  status: number;
  en: string;
  zh: string;
  /** What the caller (or, where it says so, the operator) should do about it. */
  remedy: string;
}

/** Remedies shared by a family of codes (the part before the dot). */
const R = {
  REQUEST: "Fix the request as the detail says (field paths are given); resend.",
  AUTH: "Send `Authorization: Bearer <token>` with a valid, unrevoked token of a role allowed here.",
  RESOURCE: "Check the URL.",
  METHOD: "Use a method the `Allow` header lists.",
  IDEMPOTENCY: "Use a new `Idempotency-Key` for a different request; reuse a key only to retry the same one.",
  IPFS: "Check the CID; a 503 means the content store is down: retry later.",
  CHAIN: "The ledger node is down or unreachable from the server; nothing was stored: retry later.",
  ORGANISATION: "Check the organisation id and its status; suspended organisations may not write until reinstated.",
  CREDENTIAL: "Check the credential id.",
  PRODUCT: "Register the product (`POST /api/v1/products`) first, with the unit its batches use.",
  PLOT: "Register the plot under your organisation first.",
  CERTIFICATION: "Register the certification under your organisation first.",
  MEDIA: "Upload the file first (`POST /api/v1/media`) and use the CID it returns.",
  BATCH:
    "Check the batch id; a GTIN and lot can be registered once (again only after the ledger refused it), and a recalled batch takes no new events. A lot larger than the item limit is registered as several lots.",
  DRAFT: "Prepare the write again; signature requests expire with their deadline.",
  SIGNATURE:
    "Sign exactly the typed data of the signature request with the organisation's registered key (or, for a contract wallet, so that its `isValidSignature` accepts it).",
  EVENT: "Give the data the business step requires and a time that is possible for the batch.",
  ITEM: "Check the GTIN, lot and serial printed on the label.",
  CLAIM: "Check the code under the scratch-off; after too many wrong codes, wait an hour.",
  STORAGE: "The operator must free disk space; nothing was stored, so the request can be retried later.",
  INTERNAL: "Retry later; the operator sees the details in the server log under the request id.",
  GS1: "Correct the GS1 key: GTIN check digit, and lot/serial of 1–20 characters from GS1's 82-character set.",
  DIGITAL_LINK: "Use the form /01/{GTIN}/10/{lot}/21/{serial}, qualifiers in that order, data attributes in the query.",
  MERKLE: "A batch needs at least one item and unique serials.",
  SERIAL: "Serials and hidden codes are printed on the label; type them as printed.",
  USCC: "Type the 18-character unified social credit code exactly as on the business licence.",
  REGION: "Use a six-digit GB/T 2260 administrative division code.",
  UNITS: "Give a positive decimal quantity with at most three decimals, in a unit the product uses.",
  COLD_CHAIN: "Give readings with valid times and temperatures in °C.",
  LABELS:
    "Choose fewer labels per page or a shorter lot; a missing font is for the operator to install (fonts-wqy-microhei).",
  VERIFY:
    "Internal to verifiers: `verifyResolution` reports it as a failed check of the resolution it was given; the CLI prints it.",
} as const;

/**
 * Refusals of a request as a whole. Their `details` are the problem's own extension
 * members (RFC 9457 §3.2: `retryAfterSeconds`, `issues`, ...) at the top of the body.
 */
const HTTP = {
  "request.invalid": {
    status: 400,
    en: "The request is not valid.",
    zh: "请求无效。",
    remedy: R.REQUEST,
  },
  "request.too_large": {
    status: 413,
    en: "The request body is too large.",
    zh: "请求内容过大。",
    remedy: "Send a smaller body; upload media through `POST /api/v1/media`, which streams.",
  },
  "request.unsupported_media_type": {
    status: 415,
    en: "The request's content type is not accepted here.",
    zh: "不支持该请求内容类型。",
    remedy: R.REQUEST,
  },
  "request.document_too_large": {
    status: 413,
    en: "What this request would publish exceeds the 256 KiB a public document may hold; send less per request (e.g. split a long temperature series over several events).",
    zh: "本请求要发布的公开文档超过 256 KiB 上限；请减少单次提交的内容（例如把较长的温度记录拆分到多个事件中）。",
    remedy: R.REQUEST,
  },
  "request.rate_limited": {
    status: 429,
    en: "Too many requests; try again later.",
    zh: "请求过于频繁，请稍后再试。",
    remedy: "Wait and retry; the `RateLimit` header says when.",
  },
  "request.timeout": {
    status: 408,
    en: "The request body did not arrive in time; the connection is closed.",
    zh: "请求内容未能及时送达，连接已关闭。",
    remedy:
      "Send the whole body within `BODY_TIMEOUT_SECONDS` of the headers (only media uploads may take longer); resend.",
  },
  "auth.missing": {
    status: 401,
    en: "Credentials are required.",
    zh: "需要登录凭据。",
    remedy: R.AUTH,
  },
  "auth.invalid": {
    status: 401,
    en: "The credentials are not valid.",
    zh: "登录凭据无效。",
    remedy: R.AUTH,
  },
  "auth.forbidden": {
    status: 403,
    en: "Your role may not do this.",
    zh: "您的角色无权执行此操作。",
    remedy: R.AUTH,
  },
  "resource.not_found": {
    status: 404,
    en: "Nothing was found here.",
    zh: "未找到该资源。",
    remedy: R.RESOURCE,
  },
  "method.not_allowed": {
    status: 405,
    en: "This method is not allowed here.",
    zh: "不允许使用该请求方法。",
    remedy: R.METHOD,
  },
  "idempotency.conflict": {
    status: 409,
    en: "This idempotency key was already used with a different request.",
    zh: "该幂等键已用于另一个不同的请求。",
    remedy: R.IDEMPOTENCY,
  },
  "idempotency.in_progress": {
    status: 409,
    en: "A request with this idempotency key is still being handled; retry after the time given in Retry-After.",
    zh: "使用该幂等键的请求仍在处理中，请在 Retry-After 所示时间后重试。",
    remedy:
      "Send the same request with the same key again after the seconds `Retry-After` gives; a key whose server died is taken over once its lease lapses.",
  },
  "idempotency.answer_lost": {
    status: 409,
    en: "The write made with this idempotency key was stored, but its answer was lost when the server stopped; look the record up.",
    zh: "使用该幂等键的写入已保存，但服务器中断时丢失了应答；请查询该记录。",
    remedy:
      "The write was stored: look the record up (the problem's `written` names it); do not send it again under a new key.",
  },
  "ipfs.cid_malformed": {
    status: 400,
    en: "This is not a valid CID.",
    zh: "这不是有效的内容标识符（CID）。",
    remedy: R.IPFS,
  },
  "ipfs.not_found": {
    status: 404,
    en: "No content with this CID is stored here.",
    zh: "此处未存储该内容。",
    remedy: R.IPFS,
  },
  "ipfs.not_a_file": {
    status: 404,
    en: "This CID names something other than a file; only files are served here.",
    zh: "该内容标识符（CID）指向的不是文件；此处只提供文件。",
    remedy: R.IPFS,
  },
  "ipfs.range_not_satisfiable": {
    status: 416,
    en: "The requested byte range lies outside the content.",
    zh: "请求的字节范围超出内容长度。",
    remedy: R.IPFS,
  },
  "chain.unavailable": {
    status: 503,
    en: "The ledger node cannot be reached; try again later.",
    zh: "区块链节点暂时无法访问，请稍后再试。",
    remedy: R.CHAIN,
  },
  "chain.busy": {
    status: 503,
    en: "The ledger node is busy with other reads; try again in a moment.",
    zh: "区块链节点正忙于其他查询，请稍后再试。",
    remedy: "Retry after the seconds the `Retry-After` header gives; the proxy serves a few reads at a time.",
  },
  "ipfs.unavailable": {
    status: 503,
    en: "The content store is unavailable; try again later.",
    zh: "内容存储暂时不可用，请稍后再试。",
    remedy: R.IPFS,
  },
  "organisation.not_found": {
    status: 404,
    en: "No organisation has this id.",
    zh: "不存在该组织。",
    remedy: R.ORGANISATION,
  },
  "organisation.exists": {
    status: 409,
    en: "An organisation with this credit code or signing address is already registered.",
    zh: "具有该统一社会信用代码或签名地址的组织已注册。",
    remedy: "The credit code or signing address is registered already: look the organisation up instead.",
  },
  "application.exists": {
    status: 409,
    en: "An application with this credit code is already waiting for review.",
    zh: "该统一社会信用代码已有一份申请正在审核中。",
    remedy:
      "Wait for the bureau's decision on the application already made (its status link says it); apply again only after a refusal.",
  },
  "application.not_found": {
    status: 404,
    en: "No application has this id, or the status secret does not match.",
    zh: "不存在该申请，或查询密码不符。",
    remedy: "Use the status link given when you applied, exactly as it was given.",
  },
  "application.not_pending": {
    status: 409,
    en: "The application has already been decided.",
    zh: "该申请已经审核完毕。",
    remedy: "Reload the list: another reviewer approved or refused it.",
  },
  "application.licence_type": {
    status: 415,
    en: "The licence photo must be a JPEG, PNG or WebP image.",
    zh: "营业执照照片必须是 JPEG、PNG 或 WebP 图片。",
    remedy: "Take the photo with the phone's camera, or send a JPEG, PNG or WebP file.",
  },
  "application.licence_too_large": {
    status: 413,
    en: "The licence photo is larger than 4 MB.",
    zh: "营业执照照片超过 4 MB。",
    remedy: "Send a smaller photo (at most 4 MB).",
  },
  "application.licence_unknown": {
    status: 400,
    en: "The licence photo named in the application was not uploaded here.",
    zh: "申请中引用的营业执照照片未在此上传。",
    remedy: "Upload the photo first (`POST /api/v1/applications/licence`) and use the CID it returns.",
  },
  "member.not_found": {
    status: 404,
    en: "No person of this organisation has this id.",
    zh: "该组织中不存在此人员。",
    remedy: "Check the person's id in the organisation's list of people.",
  },
  "member.chair_kept": {
    status: 409,
    en: "The chair cannot be removed or limited.",
    zh: "不能删除负责人或限制其权限。",
    remedy: "Revoke the chair's sessions instead; the operator changes the chair.",
  },
  "member.capability_missing": {
    status: 403,
    en: "Your account may not do this; ask your chair for the permission.",
    zh: "您的账号无权执行此操作，请向负责人申请权限。",
    remedy:
      "The organisation's chair gives the person the capability this write needs (`batches`, `events` or `members`).",
  },
  "sign_in.invalid": {
    status: 401,
    en: "This sign-in link is not valid: it is unknown, already used or expired.",
    zh: "该登录链接无效：链接不存在、已使用或已过期。",
    remedy: "Ask your chair or the bureau for a new sign-in link; each link works once, within 72 hours.",
  },
  "session.not_found": {
    status: 404,
    en: "No session of this person has this id.",
    zh: "此人员不存在该登录会话。",
    remedy: "Check the session's id in the person's list of sessions.",
  },
  "organisation.suspended": {
    status: 403,
    en: "This organisation is suspended and may not write.",
    zh: "该组织已被暂停，不能提交数据。",
    remedy: R.ORGANISATION,
  },
  "organisation.own_status": {
    status: 403,
    en: "A regulator may not suspend or reinstate its own organisation.",
    zh: "监管机构不能暂停或恢复本机构。",
    remedy: "Ask a regulator whose region covers yours (or a national regulator) to act on your organisation.",
  },
  "organisation.outside_jurisdiction": {
    status: 403,
    en: "This lies outside your regulator's region.",
    zh: "该对象不在本监管机构的辖区内。",
    remedy:
      "A regulator acts on, audits and searches only organisations and batches of its own region (GB/T 2260 prefix of its region code); ask the regulator of that region.",
  },
  "organisation.wrong_kind": {
    status: 403,
    en: "Organisations of this kind may not do this.",
    zh: "该类型的组织无权执行此操作。",
    remedy: R.ORGANISATION,
  },
  "organisation.not_on_ledger": {
    status: 409,
    en: "The organisation is not registered on the ledger yet; try again shortly.",
    zh: "该组织尚未在链上登记完成，请稍后再试。",
    remedy: R.ORGANISATION,
  },
  "organisation.state_unchanged": {
    status: 409,
    en: "The organisation is already in that state.",
    zh: "该组织已处于此状态。",
    remedy: R.ORGANISATION,
  },
  "credential.not_found": {
    status: 404,
    en: "No such credential.",
    zh: "不存在该凭据。",
    remedy: R.CREDENTIAL,
  },
  "product.not_found": {
    status: 404,
    en: "No product with this GTIN is registered.",
    zh: "未登记该商品条码的产品。",
    remedy: R.PRODUCT,
  },
  "product.exists": {
    status: 409,
    en: "A product with this GTIN is already registered.",
    zh: "该商品条码的产品已登记。",
    remedy: R.PRODUCT,
  },
  "product.unit_mismatch": {
    status: 400,
    en: "The quantity's unit differs from the product's unit.",
    zh: "数量单位与产品登记的单位不一致。",
    remedy: R.PRODUCT,
  },
  "product.net_content_unit": {
    status: 400,
    en: "A product's net content per item must be a mass: g, kg or t.",
    zh: "产品每件净含量须使用质量单位：克、千克或吨。",
    remedy: 'Give the net content per item as a mass, e.g. `{ "value": "250", "unit": "g" }`, or leave it out.',
  },
  "gtin.not_entitled": {
    status: 403,
    en: "This organisation is not entitled to this GTIN: it neither owns it nor was granted it.",
    zh: "该组织无权使用此商品条码：既不是其所有者，也未获授权。",
    remedy:
      "Use a GTIN under your own company prefix, ask the operator to bind your prefix or GTIN, or ask the GTIN's owner for a grant (`POST /api/v1/products/{gtin}/grants`).",
  },
  "gtin.not_owner": {
    status: 403,
    en: "Only the organisation that owns this GTIN may grant or withdraw it.",
    zh: "只有该商品条码的所有者才能授权或撤销授权。",
    remedy: "Ask the GTIN's owner (`GET /api/v1/products/{gtin}/entitlement`) to grant or withdraw it.",
  },
  "gtin.binding_taken": {
    status: 409,
    en: "This GTIN is already bound to an organisation.",
    zh: "该商品条码已绑定到某个组织。",
    remedy:
      "Release the existing binding first (operator), or look the owner up with `GET /api/v1/products/{gtin}/entitlement`.",
  },
  "gtin.grant_not_found": {
    status: 404,
    en: "This GTIN is not granted to this organisation.",
    zh: "该商品条码未授权给该组织。",
    remedy: "Check the GTIN and the organisation id (`GET /api/v1/products/{gtin}/entitlement` lists the grantees).",
  },
  "company_prefix.invalid": {
    status: 400,
    en: "A GS1 company prefix has 6 to 12 digits.",
    zh: "GS1 厂商识别代码应为 6 至 12 位数字。",
    remedy: "Give the prefix as printed on the GS1 membership certificate, leading zeros included.",
  },
  "company_prefix.taken": {
    status: 409,
    en: "This company prefix is already bound, or lies within a prefix bound to another organisation.",
    zh: "该厂商识别代码已被绑定，或属于其他组织已绑定的厂商识别代码范围。",
    remedy: "Check the GS1 membership certificate; the operator releases a lapsed binding first.",
  },
  "company_prefix.not_bound": {
    status: 404,
    en: "This company prefix (or GTIN) is not bound to this organisation.",
    zh: "该厂商识别代码（或商品条码）未绑定到该组织。",
    remedy: "Check the organisation id and the prefix or GTIN (`GET /api/v1/organisations/{id}`).",
  },
  "platform_prefix.not_configured": {
    status: 409,
    en: "The platform has no GS1 company prefix to allocate from.",
    zh: "平台未配置可分配的 GS1 厂商识别代码。",
    remedy:
      "The operator sets PLATFORM_COMPANY_PREFIX (and PLATFORM_PREFIX_EXTRA_DIGITS), or binds the cooperative's own prefix.",
  },
  "platform_prefix.exhausted": {
    status: 409,
    en: "Every prefix the platform's GS1 company prefix can give out has been allocated.",
    zh: "平台的 GS1 厂商识别代码可分配的前缀已全部分配。",
    remedy: "The operator obtains another GS1 company prefix for the platform, or binds the cooperative's own prefix.",
  },
  "plot.not_found": {
    status: 404,
    en: "The organisation has no plot with this id.",
    zh: "该组织没有此地块。",
    remedy: R.PLOT,
  },
  "certification.not_found": {
    status: 404,
    en: "The organisation has no certification with this id.",
    zh: "该组织没有此认证。",
    remedy: R.CERTIFICATION,
  },
  "media.not_found": {
    status: 404,
    en: "No uploaded media has this CID.",
    zh: "未找到该内容标识符（CID）对应的已上传文件。",
    remedy: R.MEDIA,
  },
  "media.too_large": {
    status: 413,
    en: "The file is larger than allowed.",
    zh: "文件超过允许的大小。",
    remedy: R.MEDIA,
  },
  "media.empty": {
    status: 400,
    en: "The upload is empty.",
    zh: "上传内容为空。",
    remedy: R.MEDIA,
  },
  "upload.not_found": {
    status: 404,
    en: "No upload session of yours has this id; it may have expired (sessions are kept 24 hours).",
    zh: "未找到您的该上传会话；它可能已过期（会话保留 24 小时）。",
    remedy: "Start a new upload session (`POST /api/v1/media/uploads`) and send the file from the beginning.",
  },
  "upload.offset_mismatch": {
    status: 409,
    en: "The upload does not continue where the server's copy ends.",
    zh: "上传的起点与服务器已收到的位置不一致。",
    remedy: "Ask for the session (`HEAD` or `GET`) and continue from the `Upload-Offset` it gives.",
  },
  "upload.busy": {
    status: 409,
    en: "Another request is still sending to this upload session.",
    zh: "另一个请求仍在向该上传会话发送数据。",
    remedy: "Wait for the other request to end (or the connection to drop), ask for the offset, then continue.",
  },
  "batch.exists": {
    status: 409,
    en: "A batch with this GTIN and lot is already registered.",
    zh: "该商品条码与批号的批次已登记。",
    remedy: R.BATCH,
  },
  "batch.not_found": {
    status: 404,
    en: "No such batch.",
    zh: "不存在该批次。",
    remedy: R.BATCH,
  },
  "batch.too_many_items": {
    status: 413,
    en: "The batch has more items than one registration may issue.",
    zh: "该批次的商品数量超过单次登记的上限。",
    remedy: R.BATCH,
  },
  "batch.recalled": {
    status: 409,
    en: "The batch is recalled.",
    zh: "该批次已召回。",
    remedy: R.BATCH,
  },
  "batch.not_yours": {
    status: 403,
    en: "Only the batch's own cooperative may do this.",
    zh: "只有该批次所属的合作社可以执行此操作。",
    remedy: R.BATCH,
  },
  "batch.harvested_at_out_of_range": {
    status: 400,
    en: "The harvest time is one the ledger refuses: it must be after 1970-01-01T00:00:00Z and not later than now.",
    zh: "收获时间不被账本接受：必须晚于 1970-01-01T00:00:00Z，且不晚于当前时间。",
    remedy: R.BATCH,
  },
  "batch.attestation_failed": {
    status: 409,
    en: "The ledger refused this batch's attestation, so it takes no events or recalls; register the lot again with corrected fields.",
    zh: "账本拒绝了该批次的登记，不能再追加事件或召回；请更正后重新登记该批号。",
    remedy: R.BATCH,
  },
  "draft.not_found": {
    status: 404,
    en: "No draft awaits a signature under this id.",
    zh: "不存在等待签名的该草稿。",
    remedy: R.DRAFT,
  },
  "signature.invalid": {
    status: 400,
    en: "The signature was not made by the organisation's registered key over this data.",
    zh: "签名与该组织登记的密钥或所签数据不符。",
    remedy: R.SIGNATURE,
  },
  "signature.custody": {
    status: 409,
    en: "This organisation's key is held by the platform, so the platform signs; or it holds its own key and must sign itself.",
    zh: "签名方式与该组织的密钥托管方式不符。",
    remedy: R.SIGNATURE,
  },
  "event.data_invalid": {
    status: 400,
    en: "The event's data does not fit its business step.",
    zh: "事件数据与业务环节不符。",
    remedy: R.EVENT,
  },
  "event.before_harvest": {
    status: 400,
    en: "The event's time is impossible for this batch (before planting or in the future).",
    zh: "事件时间对该批次不合理（早于种植或晚于当前时间）。",
    remedy: R.EVENT,
  },
  "container.sscc_invalid": {
    status: 400,
    en: "An SSCC is 18 digits (GS1 AI 00), given as its digits, with its AI, or as a GS1 Digital Link.",
    zh: "系列货运包装箱代码（SSCC）应为 18 位数字（GS1 应用标识符 00），可带标识符或写作 GS1 数字链接。",
    remedy: "Give the 18 digits printed under the case's or pallet's label, e.g. `106141411234567897`.",
  },
  "container.sscc_exhausted": {
    status: 409,
    en: "The company prefix has no SSCC serial reference left to allocate.",
    zh: "该厂商识别代码下已没有可分配的 SSCC 序列号。",
    remedy: "Bind a longer-lived company prefix to the organisation, or ask the operator for one.",
  },
  "container.not_found": {
    status: 404,
    en: "No case or pallet with this SSCC is known here.",
    zh: "没有此 SSCC 的箱或托盘记录。",
    remedy: "Check the SSCC; a container is known from its first packing.",
  },
  "container.item_unknown": {
    status: 422,
    en: "An item to pack is not among its batch's items (unknown GTIN, lot or serial).",
    zh: "待装箱的货品不在其批次的货品中（商品条码、批号或序列号不存在）。",
    remedy: "Scan the item's label again; the problem's details name the items not found.",
  },
  "container.item_in_live_container": {
    status: 409,
    en: "An item to pack is already in another case that has not been unpacked.",
    zh: "待装箱的货品已在另一个尚未拆箱的箱中。",
    remedy: "Unpack that case first (its SSCC is in the problem's details), or leave the item out.",
  },
  "container.child_in_live_container": {
    status: 409,
    en: "A case to palletise is already in another pallet that has not been unpacked.",
    zh: "待装托盘的箱已在另一个尚未拆开的托盘中。",
    remedy: "Unpack that pallet first (its SSCC is in the problem's details), or leave the case out.",
  },
  "container.child_invalid": {
    status: 409,
    en: "A case to palletise is not held by this organisation, is empty, or is on its way to a receiver.",
    zh: "待装托盘的箱不由本机构持有、是空箱，或正在运往收货方。",
    remedy: "Palletise only packed cases your organisation has received or packed itself.",
  },
  "container.children_invalid": {
    status: 400,
    en: "A packing needs at least one item or case, at most 10,000 items, each named once.",
    zh: "装箱须至少包含一件货品或一个箱，货品最多 10,000 件，且每件只能出现一次。",
    remedy: "Name each item (or serial range) and each case once; split larger loads into several cases.",
  },
  "container.step_not_allowed": {
    status: 403,
    en: "This organisation's kind does not ship cases or pallets (cooperatives, processors and logistics ship).",
    zh: "该类型机构不能发运箱或托盘（合作社、加工和物流机构可发运）。",
    remedy: "Ship with the organisation that holds the container and is of a kind that ships.",
  },
  "container.no_custody": {
    status: 403,
    en: "This organisation does not hold this case (or pallet), or is not the receiver its shipping named.",
    zh: "该机构不持有这个箱（托盘），或不是发货时指定的收货方。",
    remedy: "Only the custodian ships or unpacks a container, and only the receiver its shipping named receives it.",
  },
  "container.in_transit": {
    status: 409,
    en: "This case (or pallet) is on its way to a receiver; it cannot be unpacked or palletised until received.",
    zh: "该箱（托盘）正在运往收货方，收货前不能拆箱或装入托盘。",
    remedy: "Wait for the receiver to record receiving; it may then unpack or palletise it.",
  },
  "container.live": {
    status: 409,
    en: "This case (or pallet) is already packed. Unpack it before packing it again.",
    zh: "该箱（托盘）已装有货品。请先拆箱，再重新装箱。",
    remedy: "Use a new SSCC, or unpack this container first.",
  },
  "container.empty": {
    status: 409,
    en: "This case (or pallet) is empty (never packed, or unpacked).",
    zh: "该箱（托盘）是空的（从未装箱或已拆箱）。",
    remedy: "Pack it first (`POST /api/v1/containers`).",
  },
  "container.state_conflict": {
    status: 409,
    en: "The case (or pallet), or what it names, changed while this request was being signed: another request was accepted first.",
    zh: "该箱（托盘）或其所含货品、箱、托管关系在本请求签名期间已被另一请求改变。",
    remedy:
      "Read the container again (`GET /api/v1/containers/{sscc}`) and resend the request for its current state (a new signature request).",
  },
  "certificate.not_found": {
    status: 404,
    en: "No certificate (合格证) has this id.",
    zh: "没有此编号的合格证。",
    remedy: "Check the certificate id: the 0x-hex digest the issuing answer or the certificate's QR code gives.",
  },
  "certificate.no_custody": {
    status: 403,
    en: "This organisation may not issue a certificate for this batch: it is neither the batch's cooperative nor its current custodian.",
    zh: "该机构无权为此批次开具合格证：既不是该批次的合作社，也不是当前保管方。",
    remedy:
      "Issue it as the batch's cooperative or its current custodian (a shipping event naming you, then receiving); a buyer who mixes lots names certificates of batches it holds.",
  },
  "certificate.over_quantity": {
    status: 409,
    en: "The certificate would cover more than the batch's registered quantity less what its earlier certificates already covered.",
    zh: "合格证数量超过该批次登记数量减去此前合格证已开具的数量。",
    remedy:
      "Issue a certificate for at most the quantity the problem's details give as `remainingMilli` (thousandths of the unit).",
  },
  "certificate.batch_not_anchored": {
    status: 409,
    en: "The batch is not on the ledger yet: a certificate is issued only for a batch the registry has accepted.",
    zh: "该批次尚未上链：只能为登记合约已接受的批次开具合格证。",
    remedy: "Wait until the batch's ledger state is `anchored` (已上链), then issue the certificate again.",
  },
  "certificate.parents_over_quantity": {
    status: 409,
    en: "A certificate issued from parents may cover at most what remains of them: each parent's quantity is given out once, over all the certificates issued from it.",
    zh: "依据上级合格证开具的合格证，数量不得超过各上级合格证尚未被开具的数量之和（每张上级合格证的数量只能分出一次）。",
    remedy: "Lower the quantity to at most `remainingMilli` (thousandths of the unit), or name further parents.",
  },
  "certificate.parent_invalid": {
    status: 400,
    en: "A parent certificate is unknown, named twice, of another product than the first parent, or in another unit than the new certificate.",
    zh: "上级合格证不存在、重复、与第一张上级合格证的产品不同，或计量单位与本证不同。",
    remedy: "Name each parent once by its id, all of one product and in the unit of the new certificate.",
  },
  "lot_card.not_found": {
    status: 404,
    en: "No lot of this product was registered under this lot number: the code may be mistyped or not genuine.",
    zh: "此商品没有登记这个批号：可能输入有误，或不是正规的码。",
    remedy:
      "Check the GTIN and lot on the package or the stream's screen; the lot card exists once its batch is registered.",
  },
  "lot_card.image_size": {
    status: 400,
    en: "The lot card image size is out of range (360 to 2048 pixels).",
    zh: "批次卡片图片尺寸超出范围（360 至 2048 像素）。",
    remedy: "Ask for ?size= between 360 and 2048, or leave it out for 1080.",
  },
  "lot_card.oembed_url": {
    status: 404,
    en: "This URL is not a lot card of this server.",
    zh: "该网址不是本站的批次卡片。",
    remedy: "Pass url= the lot page's address, https://{host}/01/{GTIN}/10/{lot}.",
  },
  "lot_card.oembed_format": {
    status: 501,
    en: "Only the JSON oEmbed format is offered.",
    zh: "仅提供 JSON 格式的 oEmbed。",
    remedy: "Ask for format=json, or leave format out.",
  },
  "lot_card.busy": {
    status: 503,
    en: "The server is drawing other lot card images; try again in a moment.",
    zh: "服务器正在生成其他批次卡片图片，请稍后再试。",
    remedy: "Retry after the seconds the `Retry-After` header gives; an image already drawn is served at once.",
  },
  "order.not_found": {
    status: 404,
    en: "No order of this organisation has this id.",
    zh: "本机构没有此编号的订单。",
    remedy: "Check the order id: orders are seen only by the organisation that sells them.",
  },
  "order.lot_not_held": {
    status: 403,
    en: "This organisation may not sell this lot: it is neither the lot's cooperative nor its current custodian.",
    zh: "该机构无权销售此批次：既不是该批次的合作社，也不是当前保管方。",
    remedy: "Sell lots you registered or received (a shipping event naming you, then receiving).",
  },
  "order.lot_not_anchored": {
    status: 409,
    en: "The lot is not on the ledger yet (or was recalled): orders are taken only for lots the registry has accepted.",
    zh: "该批次尚未上链（或已召回）：只能为登记合约已接受的批次下订单。",
    remedy: "Wait until the batch's ledger state is `anchored` (已上链); a recalled lot is not sold.",
  },
  "lot.sold_out": {
    status: 409,
    en: "The order would sell more of this lot than was registered: its remaining units are fewer than ordered.",
    zh: "该订单的数量超过此批次登记的数量：剩余可售件数不足。",
    remedy: "Order at most `remaining` units of the lot (the problem's details), or another lot. Nothing was stored.",
  },
  "order.despatch_own_wallet": {
    status: 409,
    en: "An order's despatch is signed by the platform's custodial key this version; this organisation holds its own key.",
    zh: "本版本的订单发货由平台托管密钥签名；该机构自持密钥，暂不支持订单发货。",
    remedy:
      "Pack and ship the case with `POST /api/v1/containers` (`shipTo`, `bizTransactions` naming the order) and sign it in the wallet; the order itself stays open.",
  },
  "order.not_open": {
    status: 409,
    en: "The order can no longer change: it was despatched or cancelled.",
    zh: "订单已发货或已取消，不能再修改。",
    remedy: "Create a new order; an order is cancelled only before its despatch.",
  },
  "order.item_not_ordered": {
    status: 409,
    en: "The scanned item is not of a lot this order has a line for.",
    zh: "扫描的商品不属于该订单任何一行的批次。",
    remedy: "Scan items of the order's lines only (the problem's details name the item).",
  },
  "order.line_full": {
    status: 409,
    en: "The order's line for this lot already has as many items as it ordered.",
    zh: "该订单此批次的行已扫满订购数量。",
    remedy: "Put the item back: the line is complete.",
  },
  "order.item_in_other_order": {
    status: 409,
    en: "The scanned item is already packed into another order.",
    zh: "扫描的商品已装入另一个订单。",
    remedy: "Put the item back, or cancel the other order first.",
  },
  "order.case_invalid": {
    status: 409,
    en: "The scanned case is not a packed case this organisation holds (unknown, empty, unpacked, in transit or another's).",
    zh: "扫描的箱码不是本机构持有的已装箱箱子（未知、为空、已拆箱、运输中或属于其他机构）。",
    remedy: "Scan a case your organisation packed or received, or scan its items one by one.",
  },
  "order.item_in_case": {
    status: 409,
    en: "The scanned item is packed in a case: the case travels whole.",
    zh: "扫描的商品已装在箱中：整箱一起发运。",
    remedy: "Scan the case's SSCC (the problem's details name it) instead of the item, or unpack the case first.",
  },
  "order.not_fully_packed": {
    status: 409,
    en: "The order cannot be despatched before every line is packed in full.",
    zh: "订单每一行都扫满之前不能发货。",
    remedy: "Scan the items still to pack (`GET` the order for each line's `toPack`), then despatch.",
  },
  "event.no_custody": {
    status: 403,
    en: "This organisation has no say about this batch: it is not the batch's cooperative, its custodian, the receiver a shipping event named, or an inspector asked to inspect it.",
    zh: "该机构无权记录此批次：既不是该批次的合作社、当前保管方、发运事件指定的收货方，也不是受托检验的机构。",
    remedy:
      "Ask the batch's current custodian to ship it to you (a shipping event naming you as `receiver`), then record receiving; an inspector asks the cooperative or a regulator for an inspection request.",
  },
  "event.receiver_required": {
    status: 400,
    en: "A shipping event must name the organisation it hands the batch to.",
    zh: "发运事件须指定收货机构。",
    remedy: "Give `receiver`: the id of the organisation that receives the batch.",
  },
  "event.receiver_invalid": {
    status: 400,
    en: "The receiver must be another registered organisation of a kind that records receiving (processor, logistics, retailer).",
    zh: "收货方须为另一家已登记、可记录收货的机构（加工、物流或零售）。",
    remedy: "Give the id of the processor, carrier or shop that receives the batch, not your own organisation's.",
  },
  "event.counterparty_unexpected": {
    status: 400,
    en: "Only a shipping event names a receiver.",
    zh: "只有发运事件可以指定收货方。",
    remedy: "Leave out `receiver` for every step but shipping.",
  },
  "epcis.schema_invalid": {
    status: 400,
    en: "The EPCIS document does not conform to the EPCIS 2.0 JSON Schema; nothing was captured.",
    zh: "EPCIS 文档不符合 EPCIS 2.0 JSON Schema，未采集任何事件。",
    remedy:
      "Fix the document where `issues` say (JSON Pointers into the document, with the schema's reason) and send it again; see docs/epcis.md.",
  },
  "epcis.query_parameter": {
    status: 400,
    en: "A query parameter is unknown or its value is not valid.",
    zh: "查询参数未知或取值无效。",
    remedy:
      "Use only the parameters docs/epcis.md lists (eventType, GE_/LT_eventTime, GE_/LT_recordTime, EQ_bizStep, EQ_disposition, MATCH_epc, MATCH_anyEPC, MATCH_epcClass, EQ_bizLocation, perPage, nextPageToken), with the values it describes.",
  },
  "epcis.capture_too_large": {
    status: 413,
    en: "The EPCIS document holds more events than one capture may.",
    zh: "EPCIS 文档中的事件数量超过单次采集上限。",
    remedy: "Split the events over several documents of at most 100 events each (`GS1-EPCIS-Capture-Limit`).",
  },
  "epcis.capture_not_found": {
    status: 404,
    en: "No capture job with this id is visible to you.",
    zh: "未找到该采集任务，或您无权查看。",
    remedy: "Use the `Location` a capture answered with, with the same organisation's token.",
  },
  "epcis.event_type_unsupported": {
    status: 422,
    en: "This type of EPCIS event cannot be recorded here yet (only ObjectEvent and AggregationEvent are); the document was not captured.",
    zh: "暂不支持记录此类 EPCIS 事件（目前仅支持 ObjectEvent 与 AggregationEvent），文档未被采集。",
    remedy:
      "Send transformation, association and transaction events elsewhere until this platform records them; capture the object and aggregation events in a document of their own.",
  },
  "epcis.biz_step_unsupported": {
    status: 422,
    en: "The event's business step (with its action) is none of the steps this platform records; the document was not captured.",
    zh: "事件的业务环节（及其动作）不属于本平台记录的环节，文档未被采集。",
    remedy:
      "Use a CBV 2.0 step listed in docs/epcis.md (commissioning with ADD, packing, shipping, receiving, inspecting, retail_selling) or the platform's own step URIs.",
  },
  "epcis.event_unmappable": {
    status: 422,
    en: "The event cannot be represented as one of this platform's trace events; the document was not captured.",
    zh: "该事件无法表示为本平台的追溯事件，文档未被采集。",
    remedy:
      "Name the items as SGTINs and/or the lot as an LGTIN class, with at most three decimals in quantities; the detail says which member is the problem.",
  },
  "epcis.epc_unknown": {
    status: 422,
    en: "The event names items or a lot of no batch registered here; the document was not captured.",
    zh: "事件所列商品或批次在本平台没有登记，文档未被采集。",
    remedy: "Check the GTIN, lot and serials; only batches registered on this platform can have events captured.",
  },
  "epcis.event_several_batches": {
    status: 422,
    en: "The event names items of more than one batch; an event here is about one batch.",
    zh: "事件所列商品属于多个批次；本平台的每个事件只对应一个批次。",
    remedy: "Send one event per batch (lot).",
  },
  "epcis.event_duplicate": {
    status: 409,
    en: "An event with this eventID was already captured for your organisation (or appears twice in the document).",
    zh: "贵机构已采集过相同 eventID 的事件（或文档中重复出现）。",
    remedy: "Leave the event out; to retry a whole capture, resend it with the same `Idempotency-Key`.",
  },
  "inspection.already_requested": {
    status: 409,
    en: "This inspector has already been asked to inspect this batch.",
    zh: "已请该检验机构检验此批次。",
    remedy: "Nothing to do: the inspector may record inspecting and certifying for this batch.",
  },
  "inspection.inspector_invalid": {
    status: 400,
    en: "An inspection request must name a registered inspector organisation.",
    zh: "检验请求须指定已登记的检验机构。",
    remedy: "Give `inspector`: the id of a testing or certification organisation (kind inspector).",
  },
  "item.not_found": {
    status: 404,
    en: "No such item.",
    zh: "不存在该商品。",
    remedy: R.ITEM,
  },
  "claim.no_code": {
    status: 409,
    en: "This item has no hidden code.",
    zh: "该商品没有隐藏验证码。",
    remedy: R.CLAIM,
  },
  "claim.wrong_code": {
    status: 400,
    en: "The verification code is wrong.",
    zh: "验证码错误。",
    remedy: R.CLAIM,
  },
  "claim.too_many_attempts": {
    status: 429,
    en: "Too many wrong codes for this item; try again later.",
    zh: "该商品的错误尝试过多，请稍后再试。",
    remedy: R.CLAIM,
  },
  "storage.full": {
    status: 507,
    en: "The server's storage is full; nothing was stored.",
    zh: "服务器存储空间已满，未保存任何内容。",
    remedy: R.STORAGE,
  },
  "internal.error": {
    status: 500,
    en: "Something went wrong on our side.",
    zh: "服务器内部错误。",
    remedy: R.INTERNAL,
  },
} as const satisfies Record<string, ErrorDefinition>;

/**
 * Refusals of one value by the domain rules and the label module (a GTIN, a lot, a
 * layout). Their `details` go under one `details` member of the problem body.
 */
const INPUT = {
  "gs1.gtin_format": {
    status: 400,
    en: "A GTIN has 8, 12, 13 or 14 digits.",
    zh: "商品条码（GTIN）应为 8、12、13 或 14 位数字。",
    remedy: R.GS1,
  },
  "gs1.check_digit": {
    status: 400,
    en: "The GTIN's check digit is wrong.",
    zh: "商品条码（GTIN）校验位错误。",
    remedy: R.GS1,
  },
  "gs1.lot_length": {
    status: 400,
    en: "A batch/lot number (AI 10) has 1 to 20 characters.",
    zh: "批号（AI 10）长度应为 1 至 20 个字符。",
    remedy: R.GS1,
  },
  "gs1.lot_charset": {
    status: 400,
    en: "A batch/lot number (AI 10) may only use the 82 characters GS1 allows.",
    zh: "批号（AI 10）只能使用 GS1 允许的 82 个字符。",
    remedy: R.GS1,
  },
  "gs1.serial_length": {
    status: 400,
    en: "A serial number (AI 21) has 1 to 20 characters.",
    zh: "序列号（AI 21）长度应为 1 至 20 个字符。",
    remedy: R.GS1,
  },
  "gs1.serial_charset": {
    status: 400,
    en: "A serial number (AI 21) may only use the 82 characters GS1 allows.",
    zh: "序列号（AI 21）只能使用 GS1 允许的 82 个字符。",
    remedy: R.GS1,
  },
  "gs1.cpv_length": {
    status: 400,
    en: "A consumer product variant (AI 22) has 1 to 20 characters.",
    zh: "消费产品变体（AI 22）长度应为 1 至 20 个字符。",
    remedy: R.GS1,
  },
  "gs1.cpv_charset": {
    status: 400,
    en: "A consumer product variant (AI 22) may only use the 82 characters GS1 allows.",
    zh: "消费产品变体（AI 22）只能使用 GS1 允许的 82 个字符。",
    remedy: R.GS1,
  },
  "gs1.gtin_range": {
    status: 400,
    en: "This number is not a GTIN: it has more than 14 digits or is negative.",
    zh: "该数值不是有效的商品条码：超过 14 位或为负数。",
    remedy: R.GS1,
  },
  "digital_link.syntax": {
    status: 400,
    en: "This is not a GS1 Digital Link URI.",
    zh: "这不是有效的 GS1 数字链接（Digital Link）地址。",
    remedy: R.DIGITAL_LINK,
  },
  "digital_link.host": {
    status: 400,
    en: "The resolver host name is not valid.",
    zh: "解析服务的主机名无效。",
    remedy: R.DIGITAL_LINK,
  },
  "digital_link.no_primary_key": {
    status: 400,
    en: "The link carries no GTIN (/01/...).",
    zh: "链接中缺少商品条码（/01/...）。",
    remedy: R.DIGITAL_LINK,
  },
  "digital_link.unknown_ai": {
    status: 400,
    en: "The link uses an application identifier this resolver does not know.",
    zh: "链接包含本解析服务不支持的应用标识符（AI）。",
    remedy: R.DIGITAL_LINK,
  },
  "digital_link.order": {
    status: 400,
    en: "Key qualifiers must follow the standard order: 22, then 10, then 21.",
    zh: "限定符须按标准顺序排列：22、10、21。",
    remedy: R.DIGITAL_LINK,
  },
  "digital_link.duplicate_ai": {
    status: 400,
    en: "An application identifier appears more than once.",
    zh: "同一应用标识符（AI）出现了多次。",
    remedy: R.DIGITAL_LINK,
  },
  "digital_link.misplaced_ai": {
    status: 400,
    en: "Key qualifiers belong in the path and data attributes in the query string.",
    zh: "限定符应位于路径中，数据属性应位于查询字符串中。",
    remedy: R.DIGITAL_LINK,
  },
  "digital_link.attribute_format": {
    status: 400,
    en: "A data attribute in the query string has the wrong format.",
    zh: "查询字符串中的数据属性格式错误。",
    remedy: R.DIGITAL_LINK,
  },
  "digital_link.date": {
    status: 400,
    en: "A date in the link (YYMMDD) is not a real calendar date.",
    zh: "链接中的日期（YYMMDD）不是有效的日历日期。",
    remedy: R.DIGITAL_LINK,
  },
  "merkle.empty": {
    status: 400,
    en: "A batch needs at least one item.",
    zh: "批次至少需要包含一个单品。",
    remedy: R.MERKLE,
  },
  "merkle.duplicate_serial": {
    status: 400,
    en: "The same serial number appears twice in the batch.",
    zh: "同一批次中出现了重复的序列号。",
    remedy: R.MERKLE,
  },
  "merkle.serial_encoding": {
    status: 400,
    en: "A serial number contains text that cannot be encoded as UTF-8.",
    zh: "序列号包含无法以 UTF-8 编码的字符。",
    remedy: R.MERKLE,
  },
  "merkle.unknown_serial": {
    status: 400,
    en: "This serial number is not part of the batch.",
    zh: "该序列号不属于此批次。",
    remedy: R.MERKLE,
  },
  "merkle.index_range": {
    status: 400,
    en: "There is no item at this position in the batch.",
    zh: "批次中没有该位置的单品。",
    remedy: R.MERKLE,
  },
  "serial.format": {
    status: 400,
    en: "This is not a serial number issued here.",
    zh: "这不是本平台签发的序列号。",
    remedy: R.SERIAL,
  },
  "serial.verification_code_format": {
    status: 400,
    en: "A verification code has 8 digits.",
    zh: "验证码应为 8 位数字。",
    remedy: R.SERIAL,
  },
  "serial.pepper_too_short": {
    status: 400,
    en: "The verification-code secret must be at least 32 bytes.",
    zh: "验证码密钥至少需要 32 字节。",
    remedy: R.SERIAL,
  },
  "serial.random_unavailable": {
    status: 400,
    en: "No cryptographically secure random number generator is available.",
    zh: "没有可用的密码学安全随机数生成器。",
    remedy: R.SERIAL,
  },
  "uscc.length": {
    status: 400,
    en: "A unified social credit code has 18 characters.",
    zh: "统一社会信用代码应为 18 位。",
    remedy: R.USCC,
  },
  "uscc.charset": {
    status: 400,
    en: "A unified social credit code uses digits and capital letters other than I, O, Z, S and V.",
    zh: "统一社会信用代码只能使用数字和除 I、O、Z、S、V 以外的大写字母。",
    remedy: R.USCC,
  },
  "uscc.region_format": {
    status: 400,
    en: "Characters 3 to 8 of a unified social credit code are a six-digit region code.",
    zh: "统一社会信用代码第 3 至 8 位应为 6 位数字的行政区划码。",
    remedy: R.USCC,
  },
  "uscc.check_character": {
    status: 400,
    en: "The check character of the unified social credit code is wrong.",
    zh: "统一社会信用代码校验码错误。",
    remedy: R.USCC,
  },
  "region.format": {
    status: 400,
    en: "An administrative division code (GB/T 2260) has 6 digits.",
    zh: "行政区划代码（GB/T 2260）应为 6 位数字。",
    remedy: R.REGION,
  },
  "region.province": {
    status: 400,
    en: "The first two digits name no province-level division.",
    zh: "前两位不是有效的省级行政区代码。",
    remedy: R.REGION,
  },
  "region.structure": {
    status: 400,
    en: "A county-level part needs a prefecture-level part.",
    zh: "县级代码必须隶属于地级代码。",
    remedy: R.REGION,
  },
  "units.unknown_unit": {
    status: 400,
    en: "This unit is not one we record.",
    zh: "不支持该计量单位。",
    remedy: R.UNITS,
  },
  "units.quantity_format": {
    status: 400,
    en: "A quantity is a decimal number such as 1234.5.",
    zh: "数量应为十进制数字，例如 1234.5。",
    remedy: R.UNITS,
  },
  "units.quantity_precision": {
    status: 400,
    en: "A quantity has at most 3 decimal places.",
    zh: "数量最多保留 3 位小数。",
    remedy: R.UNITS,
  },
  "units.quantity_negative": {
    status: 400,
    en: "A quantity cannot be negative.",
    zh: "数量不能为负数。",
    remedy: R.UNITS,
  },
  "units.quantity_zero": {
    status: 400,
    en: "A quantity must be greater than zero.",
    zh: "数量必须大于零。",
    remedy: R.UNITS,
  },
  "units.quantity_overflow": {
    status: 400,
    en: "The quantity is too large.",
    zh: "数量过大。",
    remedy: R.UNITS,
  },
  "cold_chain.range": {
    status: 400,
    en: "The temperature range is not valid: the minimum must not exceed the maximum.",
    zh: "温度范围无效：下限不能高于上限。",
    remedy: R.COLD_CHAIN,
  },
  "cold_chain.reading": {
    status: 400,
    en: "A temperature reading has no valid time or value.",
    zh: "温度记录缺少有效的时间或数值。",
    remedy: R.COLD_CHAIN,
  },
  "labels.qr_text_empty": {
    status: 400,
    en: "A QR code needs some text to carry; the URI is empty.",
    zh: "二维码内容为空。",
    remedy: R.LABELS,
  },
  "labels.qr_text_too_long": {
    status: 400,
    en: "The URI is too long for a label QR code that phones can still scan.",
    zh: "链接过长，无法生成可被手机扫描的标签二维码。",
    remedy: R.LABELS,
  },
  "labels.qr_size": {
    status: 400,
    en: "The requested QR image size is out of range.",
    zh: "二维码图片尺寸超出允许范围。",
    remedy: R.LABELS,
  },
  "labels.layout": {
    status: 400,
    en: "This label layout does not fit on an A4 sheet with a scannable QR code and its text.",
    zh: "该标签排版在 A4 纸上放不下可扫描的二维码及文字。",
    remedy: R.LABELS,
  },
  "labels.font_missing": {
    status: 503,
    en: "No Chinese (CJK) font was found for the label sheet.",
    zh: "未找到打印标签所需的中文字体。",
    remedy: R.LABELS,
  },
  "labels.heading": {
    status: 400,
    en: "The sheet heading needs the product's Chinese name.",
    zh: "标签页眉需要产品的中文名称。",
    remedy: R.LABELS,
  },
  "labels.item_mismatch": {
    status: 400,
    en: "A label item does not belong to this sheet: its link, serial, GTIN or lot disagree.",
    zh: "标签条目与本页不符：其链接、序列号、商品条码或批号不一致。",
    remedy: R.LABELS,
  },
} as const satisfies Record<string, ErrorDefinition>;

/**
 * Faults on our side or in data we hold, never the caller's: the HTTP layer answers each
 * as `internal.error` (500) and logs the code and details. The verifier's codes belong
 * here too: `verifyResolution` turns them into failed checks, and the CLI prints them.
 */
const INTERNAL = {
  "verify.hex": {
    status: 500,
    en: "A field is not hex text of the expected length.",
    zh: "字段不是预期长度的十六进制文本。",
    remedy: R.VERIFY,
  },
  "verify.address": {
    status: 500,
    en: "A field is not a 20-byte address.",
    zh: "字段不是 20 字节的地址。",
    remedy: R.VERIFY,
  },
  "verify.uint_range": {
    status: 500,
    en: "An integer is outside its type's range.",
    zh: "整数超出其类型的取值范围。",
    remedy: R.VERIFY,
  },
  "verify.signature_format": {
    status: 500,
    en: "A signature is malformed: not 65 bytes, a bad recovery byte, a high s, or not recoverable.",
    zh: "签名格式错误：长度不是 65 字节、恢复字节无效、s 值过高或无法恢复签名者。",
    remedy: R.VERIFY,
  },
  "verify.cid_format": {
    status: 500,
    en: "A CID is malformed or not one the verifier reads.",
    zh: "内容标识符（CID）格式错误或无法识别。",
    remedy: R.VERIFY,
  },
  "verify.abi_decode": {
    status: 500,
    en: "An answer from the ledger node could not be decoded.",
    zh: "无法解码区块链节点的应答。",
    remedy: R.VERIFY,
  },
  "verify.rpc": {
    status: 500,
    en: "The ledger node could not be read.",
    zh: "无法读取区块链节点。",
    remedy: "Check that the JSON-RPC endpoint is reachable and answers for the registry's chain; retry.",
  },
  "verify.quorum_unreachable": {
    status: 503,
    en: "Too few independent ledger nodes answered to reach the quorum: nothing could be verified.",
    zh: "应答的独立区块链节点太少，达不到法定数量：无法验证。",
    remedy: "Retry later, or configure more independent JSON-RPC endpoints; this says nothing against the item.",
  },
  "verify.quorum_disagreement": {
    status: 502,
    en: "The independent ledger nodes do not agree on the chain: nothing could be verified.",
    zh: "各独立区块链节点对链上状态的回答不一致：无法验证。",
    remedy: "Retry later; if it persists, one or more of the configured endpoints is wrong or dishonest.",
  },
  "verify.proof_invalid": {
    status: 502,
    en: "No ledger node answered a state proof that matches the trusted block.",
    zh: "没有区块链节点给出与可信区块相符的状态证明。",
    remedy: "Retry later; if it persists, the configured endpoints are wrong or dishonest.",
  },
  "verify.block_stale": {
    status: 502,
    en: "The newest block the ledger nodes agree on is older than this verifier accepts.",
    zh: "各区块链节点一致认可的最新区块早于本核验程序允许的时间。",
    remedy:
      "Retry later; if it persists, the endpoints are stalled or withholding newer blocks (a batch recalled since would not show as recalled).",
  },
  "verify.unknown_type": {
    status: 500,
    en: "The typed data names a type the verifier does not know.",
    zh: "类型化数据包含验证程序不认识的类型。",
    remedy: R.VERIFY,
  },
  "verify.qbft_header": {
    status: 502,
    en: "A ledger node answered a block header that is malformed or does not match its own hash.",
    zh: "区块链节点给出的区块头格式错误或与其哈希不符。",
    remedy: "Retry later; if it persists, the endpoint that answered is wrong or dishonest.",
  },
  "verify.qbft_extra_data": {
    status: 502,
    en: "A block's QBFT extra data (validators, vote, round, committed seals) is malformed.",
    zh: "区块的 QBFT 附加数据（验证者、投票、轮次、提交签名）格式错误。",
    remedy:
      "Retry later; if it persists, the endpoint that answered is wrong or dishonest, or the chain is not a QBFT chain.",
  },
  "export.event_data_invalid": {
    status: 500,
    en: "A stored event's data cannot be represented in the export.",
    zh: "已存储事件的数据无法在导出文件中表示。",
    remedy:
      "The operator checks the event named in the server log; the export is refused whole rather than written without it.",
  },
  "ipfs.corrupt": {
    status: 500,
    en: "Stored content fails verification against its CID.",
    zh: "已存储的内容与其内容标识符（CID）校验不符。",
    remedy: "The operator restores the damaged blocks from a replica or a backup (local data damage).",
  },
} as const satisfies Record<string, ErrorDefinition>;

export const ERRORS = { ...HTTP, ...INPUT, ...INTERNAL } as const;

/** Every code there is; throwing a code not in the registry fails the type check. */
export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(text: string): text is ErrorCode {
  return Object.hasOwn(ERRORS, text);
}

/** Whether a problem body carries this code's details as top-level members (else under `details`). */
export function detailsAreMembers(code: ErrorCode): boolean {
  return Object.hasOwn(HTTP, code);
}
